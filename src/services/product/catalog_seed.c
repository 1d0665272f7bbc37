/* catalog_seed.c - the deterministic demo catalog of `shopsphere seed`.
 *
 * Product n is a pure function of n: a small PRNG seeded with n picks the
 * brand, model, color, size, price, stock, weight and dimensions from the
 * tables of its category, and the SKU is the category code and n. Running
 * the seed again writes nothing new (SKUs exist); a larger --products adds
 * only the products past the old count. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kit/err.h"
#include "kit/uuid.h"
#include "services/product/product.h"
#include "services/product/tools.h"
#include "services/product/tools_internal.h"

#define SEED_BATCH 100

static const struct {
  const char *slug, *name, *parent;
} categories[] = {
    {"clothing", "Clothing", NULL},
    {"t-shirts", "T-Shirts", "clothing"},
    {"jeans", "Jeans", "clothing"},
    {"jackets", "Jackets", "clothing"},
    {"sneakers", "Sneakers", "clothing"},
    {"electronics", "Electronics", NULL},
    {"headphones", "Headphones", "electronics"},
    {"smartphones", "Smartphones", "electronics"},
    {"laptops", "Laptops", "electronics"},
    {"smart-home", "Smart Home", "electronics"},
    {"home-kitchen", "Home & Kitchen", NULL},
    {"cookware", "Cookware", "home-kitchen"},
    {"coffee-tea", "Coffee & Tea", "home-kitchen"},
    {"bedding", "Bedding", "home-kitchen"},
    {"sports-outdoors", "Sports & Outdoors", NULL},
    {"camping", "Camping", "sports-outdoors"},
    {"fitness", "Fitness", "sports-outdoors"},
    {"cycling", "Cycling", "sports-outdoors"},
    {"beauty", "Beauty", NULL},
    {"skincare", "Skincare", "beauty"},
    {"fragrance", "Fragrance", "beauty"},
};
#define CATEGORY_COUNT (sizeof categories / sizeof categories[0])

size_t catalog_seed_category_count(void) { return CATEGORY_COUNT; }

void catalog_seed_category(size_t i, const char **slug, const char **name,
                           const char **parent_slug) {
  *slug = categories[i].slug;
  *name = categories[i].name;
  *parent_slug = categories[i].parent;
}

/* What products of one leaf category look like. */
struct leaf {
  const char *slug, *code;
  const char *brands[4];
  const char *models[5];
  const char *styles[4];
  const char *colors[5];
  const char *sizes[5]; /* NULL-terminated when fewer */
  const char *material;
  int price_min, price_max;   /* whole dollars */
  int weight_min, weight_max; /* grams */
  int dim[3];                 /* typical length, width, height in cm */
};

static const struct leaf leaves[] = {
    {"t-shirts",
     "TSH",
     {"Northwind", "Harbor & Pine", "Lumen", "Cobalt Co."},
     {"Crew Neck Tee", "V-Neck Tee", "Pocket Tee", "Long Sleeve Tee", "Henley"},
     {"Classic", "Organic", "Heavyweight", "Slim Fit"},
     {"Black", "White", "Navy", "Heather Grey", "Olive"},
     {"XS", "S", "M", "L", "XL"},
     "100% combed cotton",
     12,
     39,
     140,
     260,
     {30, 25, 2}},
    {"jeans",
     "JNS",
     {"Indigo Row", "Northwind", "Selvedge & Co.", "Driftline"},
     {"Straight Jean", "Slim Jean", "Relaxed Jean", "Tapered Jean",
      "Bootcut Jean"},
     {"Raw", "Stretch", "Vintage Wash", "Rinse"},
     {"Dark Blue", "Light Blue", "Black", "Grey", "Indigo"},
     {"28", "30", "32", "34", "36"},
     "12 oz cotton denim",
     49,
     129,
     550,
     850,
     {40, 30, 4}},
    {"jackets",
     "JKT",
     {"Summit Ridge", "Harbor & Pine", "Northwind", "Alder"},
     {"Rain Shell", "Down Jacket", "Field Jacket", "Fleece Jacket",
      "Bomber Jacket"},
     {"Packable", "Insulated", "Waterproof", "Lightweight"},
     {"Black", "Navy", "Olive", "Burgundy", "Sand Beige"},
     {"S", "M", "L", "XL", "XXL"},
     "recycled nylon shell",
     79,
     299,
     350,
     1200,
     {45, 35, 6}},
    {"sneakers",
     "SNK",
     {"Stride", "Kinetic", "Cobalt Co.", "Parkway"},
     {"Court Sneaker", "Running Shoe", "Trail Runner", "Slip-On",
      "High-Top Sneaker"},
     {"Everyday", "Cushioned", "Knit", "Leather"},
     {"White", "Black", "Grey", "Navy", "Red"},
     {"40", "41", "42", "43", "44"},
     "breathable knit upper",
     59,
     179,
     600,
     1100,
     {33, 21, 12}},
    {"headphones",
     "HPH",
     {"Sonora", "Aurelia Audio", "Pulse", "Wavecraft"},
     {"Wireless Earbuds", "Over-Ear Headphones", "On-Ear Headphones",
      "Sport Earbuds", "Studio Monitors"},
     {"Noise-Cancelling", "Pro", "Lite", "Max"},
     {"Black", "White", "Silver", "Navy", "Teal"},
     {NULL},
     "aluminium and memory foam",
     29,
     399,
     40,
     350,
     {20, 18, 9}},
    {"smartphones",
     "PHN",
     {"Novatech", "Orbit", "Zenith Mobile", "Lumo"},
     {"Phone 12", "Phone 12 Plus", "Phone Mini", "Phone Ultra", "Phone Lite"},
     {"128 GB", "256 GB", "512 GB", "64 GB"},
     {"Midnight Black", "Silver", "Blue", "Green", "Purple"},
     {NULL},
     "glass and aluminium body",
     199,
     1299,
     150,
     240,
     {16, 8, 1}},
    {"laptops",
     "LTP",
     {"Novatech", "Vertex", "Arcline", "Orbit"},
     {"Notebook 14", "Notebook 16", "Ultrabook 13", "Creator 15",
      "Chromebook 14"},
     {"Pro", "Air", "Plus", "Studio"},
     {"Silver", "Space Grey", "Black", "Blue", "White"},
     {NULL},
     "recycled aluminium chassis",
     399,
     2499,
     1100,
     2300,
     {36, 25, 2}},
    {"smart-home",
     "SMH",
     {"Homely", "Brightnest", "Aurelia", "Kinlink"},
     {"Smart Plug", "Smart Bulb", "Video Doorbell", "Smart Speaker",
      "Thermostat"},
     {"Wi-Fi", "Mini", "Pro", "Max"},
     {"White", "Black", "Grey", "Silver", "Blue"},
     {NULL},
     "flame-retardant polycarbonate",
     15,
     249,
     60,
     900,
     {12, 10, 8}},
    {"cookware",
     "CKW",
     {"Ferro & Co.", "Copperleaf", "Hearth", "Maison Bleu"},
     {"Frying Pan", "Saucepan", "Dutch Oven", "Stock Pot", "Wok"},
     {"Cast Iron", "Nonstick", "Stainless", "Enamelled"},
     {"Black", "Red", "Blue", "Grey", "Cream"},
     {"20 cm", "24 cm", "28 cm", NULL},
     "tri-ply stainless steel",
     25,
     249,
     900,
     5500,
     {45, 30, 12}},
    {"coffee-tea",
     "COF",
     {"Roastery Lane", "Hearth", "Kettle & Leaf", "Brewhaus"},
     {"Pour-Over Kettle", "French Press", "Espresso Machine", "Burr Grinder",
      "Tea Infuser"},
     {"Gooseneck", "Classic", "Compact", "Barista"},
     {"Black", "Silver", "White", "Copper", "Green"},
     {NULL},
     "borosilicate glass and steel",
     19,
     699,
     300,
     9000,
     {30, 20, 30}},
    {"bedding",
     "BED",
     {"Driftwood", "Maison Bleu", "Slumber & Co.", "Linnea"},
     {"Duvet Cover", "Sheet Set", "Pillow", "Quilt", "Throw Blanket"},
     {"Linen", "Percale", "Sateen", "Brushed Cotton"},
     {"White", "Sand Beige", "Grey", "Sage Green", "Navy"},
     {"Single", "Double", "Queen", "King", NULL},
     "stonewashed European flax",
     29,
     249,
     500,
     3000,
     {40, 35, 10}},
    {"camping",
     "CMP",
     {"Summit Ridge", "Trailhead", "Alder", "Basecamp"},
     {"Dome Tent", "Sleeping Bag", "Camp Stove", "Headlamp", "Trekking Poles"},
     {"Ultralight", "2-Person", "All-Season", "Compact"},
     {"Orange", "Green", "Grey", "Blue", "Yellow"},
     {NULL},
     "ripstop polyester",
     19,
     449,
     200,
     4500,
     {50, 20, 20}},
    {"fitness",
     "FIT",
     {"Kinetic", "Ironclad", "Flowform", "Pulse"},
     {"Yoga Mat", "Adjustable Dumbbell", "Resistance Band Set", "Kettlebell",
      "Jump Rope"},
     {"Pro", "Eco", "Grip", "Studio"},
     {"Black", "Purple", "Teal", "Grey", "Pink"},
     {NULL},
     "natural rubber",
     12,
     349,
     150,
     16000,
     {60, 15, 15}},
    {"cycling",
     "CYC",
     {"Velora", "Spokehaus", "Trailhead", "Cadence"},
     {"Bike Helmet", "Bike Light Set", "Cycling Jersey", "Saddle Bag",
      "Mini Pump"},
     {"Aero", "Commuter", "Race", "Trail"},
     {"Black", "White", "Red", "Yellow", "Blue"},
     {"S", "M", "L", NULL},
     "EPS foam and polycarbonate",
     15,
     199,
     80,
     450,
     {28, 20, 15}},
    {"skincare",
     "SKN",
     {"Lumen Botanics", "Dewdrop", "Clearwell", "Atelier Pure"},
     {"Face Serum", "Moisturiser", "Cleanser", "Sunscreen SPF 50", "Eye Cream"},
     {"Hydrating", "Vitamin C", "Gentle", "Night"},
     {"White", "Pink", "Green", "Amber", "Blue"},
     {"30 ml", "50 ml", "100 ml", NULL},
     "plant-based actives",
     9,
     89,
     60,
     300,
     {12, 5, 5}},
    {"fragrance",
     "FRG",
     {"Maison Ambre", "Noir & Sel", "Atelier Pure", "Verdant"},
     {"Eau de Parfum", "Eau de Toilette", "Cologne", "Body Mist",
      "Solid Perfume"},
     {"Cedar", "Citrus", "Amber", "Vetiver"},
     {"Amber", "Clear", "Black", "Pink", "Green"},
     {"30 ml", "50 ml", "100 ml", NULL},
     "natural essential oils",
     25,
     189,
     150,
     600,
     {12, 8, 6}},
};
#define LEAF_COUNT (sizeof leaves / sizeof leaves[0])

/* splitmix64: a good 64-bit mix from a counter; enough for demo data. */
static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static int pick(uint64_t *s, int n) { return (int)(mix(s) % (uint64_t)n); }

static int between(uint64_t *s, int lo, int hi) {
  return lo + (int)(mix(s) % (uint64_t)(hi - lo + 1));
}

static int size_count(const struct leaf *l) {
  int n = 0;
  while (n < 5 && l->sizes[n] != NULL)
    n++;
  return n;
}

/* Letters and digits of s (at most size-1): a piece of a SKU. */
static void sku_part(const char *s, char *out, size_t size) {
  size_t o = 0;
  for (; *s && o + 1 < size; s++)
    if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
        (*s >= '0' && *s <= '9'))
      out[o++] = *s;
  out[o] = '\0';
}

/* Apparel sells in sizes and colours: every third product of the clothing
 * leaves gets options size x color (two colours) and one variant per
 * combination with its own stock and SKU (<SKU>-<size>-<colour>). */
static bool apparel(const struct leaf *l) {
  return strcmp(l->slug, "t-shirts") == 0 || strcmp(l->slug, "jeans") == 0 ||
         strcmp(l->slug, "jackets") == 0 || strcmp(l->slug, "sneakers") == 0;
}

static json_t *seed_variants(const struct leaf *l, uint64_t *s, const char *sku,
                             const char *color, const char *other,
                             json_t **options) {
  int nsizes = size_count(l);
  json_t *sizes = json_array(), *colors = json_pack("[s, s]", color, other);
  json_t *variants = json_array();
  for (int i = 0; i < nsizes; i++) {
    json_array_append_new(sizes, json_string(l->sizes[i]));
    for (int c = 0; c < 2; c++) {
      const char *col = c == 0 ? color : other;
      char size_code[16], color_code[24], vsku[128];
      sku_part(l->sizes[i], size_code, sizeof size_code);
      sku_part(col, color_code, sizeof color_code);
      snprintf(vsku, sizeof vsku, "%s-%s-%s", sku, size_code, color_code);
      int roll = pick(s, 100);
      int stock = roll < 8    ? 0
                  : roll < 20 ? between(s, 1, 3)
                              : between(s, 5, 60);
      json_array_append_new(
          variants,
          json_pack("{s:s, s:{s:s, s:s}, s:i, s:{s:s, s:s}}", "sku", vsku,
                    "options", "size", l->sizes[i], "color", col, "stock",
                    stock, "attributes", "size", l->sizes[i], "color", col));
    }
  }
  *options = json_pack("[{s:s, s:o}, {s:s, s:o}]", "name", "size", "values",
                       sizes, "name", "color", "values", colors);
  return variants;
}

void *catalog_seed_product_json(size_t index, const char *id) {
  const struct leaf *l = &leaves[index % LEAF_COUNT];
  uint64_t s = 0x5EED0000ULL + index * 7919;
  const char *brand = l->brands[pick(&s, 4)];
  const char *model = l->models[pick(&s, 5)];
  const char *style = l->styles[pick(&s, 4)];
  const char *color = l->colors[pick(&s, 5)];
  int nsizes = size_count(l);
  const char *size = nsizes > 0 ? l->sizes[pick(&s, nsizes)] : NULL;

  char name[160], sku[32], description[600], price[24], image[96];
  snprintf(name, sizeof name, "%s %s %s - %s", brand, style, model, color);
  snprintf(sku, sizeof sku, "%s-%05zu", l->code, index + 1);
  snprintf(description, sizeof description,
           "The %s %s from %s: %s, made with %s. %s%s%sDesigned to last, "
           "backed by a two-year warranty.",
           style, model, brand, color, l->material,
           size != NULL ? "Available here in size " : "",
           size != NULL ? size : "", size != NULL ? ". " : "");
  /* Prices end in .99 like a shop's, or .00 for a round tenth. */
  int dollars = between(&s, l->price_min, l->price_max);
  snprintf(price, sizeof price, "%d.%s", dollars,
           pick(&s, 10) == 0 ? "00" : "99");
  /* Mostly healthy stock, some low, a few sold out. */
  int roll = pick(&s, 100);
  int stock = roll < 4    ? 0
              : roll < 15 ? between(&s, 1, 5)
                          : between(&s, 10, 250);
  snprintf(image, sizeof image, "/api/v1/products/%s/image.svg", id);

  /* The seed's attributes: dimensions in centimetres, weight in kilograms
   * (whole grams, so 0.25 kg; 1000 g is 1 kg). */
  json_t *dims = json_pack("{s:I, s:I, s:I}", "length",
                           (json_int_t)(l->dim[0] + pick(&s, 5)), "width",
                           (json_int_t)(l->dim[1] + pick(&s, 4)), "height",
                           (json_int_t)(l->dim[2] + pick(&s, 3)));
  int grams = between(&s, l->weight_min, l->weight_max);
  json_t *attrs = json_pack("{s:s, s:s, s:o, s:o}", "brand", brand, "color",
                            color, "weight",
                            grams % 1000 == 0 ? json_integer(grams / 1000)
                                              : json_real(grams / 1000.0),
                            "dimensions", dims);
  if (size != NULL) json_object_set_new(attrs, "size", json_string(size));
  json_object_set_new(attrs, "custom",
                      json_pack("{s:s, s:b}", "material", l->material,
                                "featured", index % 17 == 0));
  json_t *product =
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:[s], s:o}", "sku",
                sku, "name", name, "description", description, "category",
                l->slug, "price", price, "currency", "USD", "stock", stock,
                "status", "active", "images", image, "attributes", attrs);
  /* Drawn after everything above, so the rest of product n stays as it
   * was before variants existed. */
  if (product != NULL && apparel(l) && size_count(l) >= 2 && index % 3 == 0) {
    int ci = 0;
    while (ci < 4 && strcmp(l->colors[ci], color) != 0)
      ci++;
    const char *other = l->colors[(ci + 1 + pick(&s, 4)) % 5];
    json_t *options = NULL;
    json_t *variants = seed_variants(l, &s, sku, color, other, &options);
    json_object_set_new(product, "options", options);
    json_object_set_new(product, "variants", variants);
    json_object_set_new(product, "stock", json_integer(0));
    json_object_del(json_object_get(product, "attributes"), "size");
  }
  /* Half the catalog has an EUR list price too: a round euro below the
   * dollar figure, same cents. */
  if (product != NULL && index % 2 == 0 && dollars > 1) {
    char eur[24];
    snprintf(eur, sizeof eur, "%d.%s", dollars - 1, strchr(price, '.') + 1);
    json_object_set_new(
        product, "prices",
        json_pack("[{s:s, s:s}]", "currency", "EUR", "amount", eur));
  }
  return product;
}

/* --- writing ----------------------------------------------------------------
 */

struct categories_tx {
  struct arena *arena;
  size_t created;
};

static int categories_body(struct db_conn *c, void *arg) {
  struct categories_tx *t = arg;
  t->created = 0;
  for (size_t i = 0; i < CATEGORY_COUNT; i++) {
    struct category_row row, parent;
    int rc = pstore_category_by_slug(c, t->arena, categories[i].slug, &row);
    if (rc < 0) return rc;
    if (rc > 0) continue;
    const char *parent_id = NULL, *path = categories[i].slug;
    if (categories[i].parent != NULL) {
      rc = pstore_category_by_slug(c, t->arena, categories[i].parent, &parent);
      if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
      parent_id = arena_strdup(t->arena, parent.id);
      path = arena_printf(t->arena, "%s/%s", parent.path, categories[i].slug);
    }
    char id[UUID_STR_LEN];
    uuid_v7(id);
    rc = pstore_category_insert(c, t->arena, id, categories[i].slug,
                                categories[i].name, parent_id, path, &row);
    if (rc < 0) return rc;
    t->created += (size_t)rc;
  }
  return 0;
}

static int count_products(struct db_pool *pool, int64_t *count) {
  struct db_conn *c = db_acquire(pool, 5000);
  if (c == NULL) return DB_UNAVAILABLE;
  int rc = pstore_product_count(c, count);
  db_release(pool, c);
  return rc;
}

int catalog_seed(const struct config *cfg, size_t count, bool if_empty,
                 seed_progress_fn progress, void *arg,
                 struct seed_result *out) {
  struct db_pool *pool = NULL;
  struct arena a;
  int rc = KIT_ERROR;
  memset(out, 0, sizeof *out);
  arena_init(&a, 64 * 1024);
  if (catalog_tools_pool_open(cfg, &pool) != KIT_OK) goto cleanup;

  if (if_empty) {
    int64_t existing = 0;
    if (count_products(pool, &existing) < 0) {
      fprintf(stderr, "seed: the database is unreachable\n");
      goto cleanup;
    }
    if (existing > 0) {
      out->skipped_not_empty = true;
      rc = KIT_OK;
      goto cleanup;
    }
  }
  struct categories_tx ct = {.arena = &a};
  if (db_transaction(pool, DB_READ_COMMITTED, categories_body, &ct) < 0) {
    fprintf(stderr, "seed: cannot write the categories (see the log)\n");
    goto cleanup;
  }
  out->categories_created = ct.created;

  for (size_t start = 0; start < count; start += SEED_BATCH) {
    size_t n = count - start < SEED_BATCH ? count - start : SEED_BATCH;
    struct arena batch_arena;
    arena_init(&batch_arena, 256 * 1024);
    struct tools_item *items = arena_alloc(&batch_arena, sizeof *items * n);
    json_t **objs = arena_alloc(&batch_arena, sizeof *objs * n);
    int brc = items != NULL && objs != NULL ? KIT_OK : KIT_NOMEM;
    for (size_t i = 0; brc == KIT_OK && i < n; i++) {
      items[i].line = start + i + 1;
      uuid_v7(items[i].id);
      objs[i] = catalog_seed_product_json(start + i, items[i].id);
      struct json_error err;
      if (objs[i] == NULL ||
          catalog_tools_read(objs[i], &batch_arena, &items[i].draft,
                             &items[i].extra, &err) != KIT_OK) {
        /* The generator and the rules disagree: a bug here, not data. */
        fprintf(stderr, "seed: product %zu is invalid: %s\n", start + i + 1,
                objs[i] ? err.message : "out of memory");
        brc = KIT_ERROR;
      }
    }
    struct tools_batch b = {.arena = &batch_arena,
                            .items = items,
                            .n = n,
                            .skip_existing = true,
                            .err = stderr,
                            .path = "seed"};
    if (brc == KIT_OK && catalog_tools_write(pool, &b) < 0) {
      fprintf(stderr, "seed: cannot write products %zu-%zu (see the log)\n",
              start + 1, start + n);
      brc = KIT_ERROR;
    }
    for (size_t i = 0; objs != NULL && i < n; i++)
      json_decref(objs[i]);
    arena_free(&batch_arena);
    if (brc != KIT_OK) goto cleanup;
    out->products_created += b.created;
    out->products_existing += b.existing;
    if (progress != NULL) progress(arg, start + n, count);
  }
  rc = KIT_OK;
cleanup:
  db_pool_close(pool);
  arena_free(&a);
  return rc;
}
