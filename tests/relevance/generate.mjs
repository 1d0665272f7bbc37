// generate.mjs - writes catalog.json: the judged relevance catalog of the
// search service. 36 hand-written target products (the ones queries.json
// judges) and 120 filler products drawn with a seeded generator (mulberry32,
// seed 1313), so the catalog is the same on every machine and every run.
// Run `node tests/relevance/generate.mjs` after changing it; the output is
// checked in.
import { writeFileSync } from 'node:fs';

const categories = [
  { key: 'clothing', name: 'Clothing' },
  { key: 'tshirts', name: 'T-Shirts', parent: 'clothing' },
  { key: 'jackets', name: 'Jackets', parent: 'clothing' },
  { key: 'shoes', name: 'Shoes', parent: 'clothing' },
  { key: 'knitwear', name: 'Knitwear', parent: 'clothing' },
  { key: 'electronics', name: 'Electronics' },
  { key: 'headphones', name: 'Headphones', parent: 'electronics' },
  { key: 'speakers', name: 'Speakers', parent: 'electronics' },
  { key: 'laptops', name: 'Laptops', parent: 'electronics' },
  { key: 'cameras', name: 'Cameras', parent: 'electronics' },
  { key: 'accessories', name: 'Accessories', parent: 'electronics' },
  { key: 'home', name: 'Home' },
  { key: 'sofas', name: 'Sofas', parent: 'home' },
  { key: 'lamps', name: 'Lamps', parent: 'home' },
  { key: 'kitchen', name: 'Kitchen', parent: 'home' },
  { key: 'bedding', name: 'Bedding', parent: 'home' },
  { key: 'sports', name: 'Sports' },
  { key: 'bikes', name: 'Bikes', parent: 'sports' },
  { key: 'yoga', name: 'Yoga', parent: 'sports' },
  { key: 'sportswear', name: 'Sportswear', parent: 'sports' },
  { key: 'outdoor', name: 'Outdoor', parent: 'sports' },
  { key: 'racket', name: 'Racket Sports', parent: 'sports' },
  { key: 'essentials', name: 'Essentials' },
  { key: 'everyday', name: 'Everyday Goods', parent: 'essentials' },
];

// [key, name, category, brand, color, size, price, description]
const targets = [
  ['t01', 'Trail Running Shoes', 'shoes', 'Stridex', 'blue', '42', '89.00', 'Grippy soles for muddy trails and long distances.'],
  ['t02', 'Classic Leather Sneakers', 'shoes', 'Heritage', 'white', '41', '75.00', 'Low-top sneakers in full-grain leather.'],
  ['t03', 'Waterproof Hiking Jacket', 'jackets', 'Nordvik', 'green', 'L', '180.00', 'A breathable shell that keeps rain out on long hikes.'],
  ['t04', 'Quilted Down Parka', 'jackets', 'Nordvik', 'black', 'M', '260.00', 'Warm winter parka filled with responsibly sourced down.'],
  ['t05', 'Organic Cotton T-Shirt', 'tshirts', 'Verdant', 'white', 'M', '25.00', 'Soft crew neck made from organic cotton.'],
  ['t06', 'Graphic Print Tee', 'tshirts', 'Urbanist', 'black', 'L', '22.00', 'Relaxed fit with a bold screen-printed graphic.'],
  ['t07', 'Wireless Noise Cancelling Headphones', 'headphones', 'Sonora', 'black', null, '199.00', 'Over-ear, active noise cancellation and a 30 hour battery.'],
  ['t08', 'Sport Earbuds', 'headphones', 'Sonora', 'red', null, '59.00', 'Sweat-resistant in-ear buds that stay put.'],
  ['t09', 'Studio Monitor Headphones', 'headphones', 'Audiolab', 'black', null, '149.00', 'Flat response closed-back cans for mixing.'],
  ['t10', 'Ultralight Laptop 14', 'laptops', 'Zephyr', 'silver', '14 in', '1199.00', 'A thin notebook computer with all-day battery.'],
  ['t11', 'Gaming Laptop 17', 'laptops', 'Titanforge', 'black', '17 in', '1899.00', 'High refresh display and a powerful graphics card.'],
  ['t12', 'Mechanical Keyboard', 'accessories', 'Clackworks', 'grey', null, '129.00', 'Hot-swappable switches in an aluminium frame.'],
  ['t13', 'Mirrorless Camera Body', 'cameras', 'Lumetta', 'black', null, '1299.00', '24 megapixel sensor with in-body stabilization.'],
  ['t14', 'Instant Film Camera', 'cameras', 'Polaroo', 'mint', null, '89.00', 'Prints credit-card sized photos in seconds.'],
  ['t15', 'Velvet Three-Seat Sofa', 'sofas', 'Hygge Home', 'emerald', null, '899.00', 'Deep seats and velvet upholstery.'],
  ['t16', 'Leather Recliner Armchair', 'sofas', 'Hygge Home', 'brown', null, '649.00', 'Reclining armchair in aniline leather.'],
  ['t17', 'Brass Floor Lamp', 'lamps', 'Luminar', 'gold', null, '159.00', 'Adjustable arc floor lamp with a brass finish.'],
  ['t18', 'Ceramic Table Lamp', 'lamps', 'Luminar', 'white', null, '79.00', 'Hand-glazed ceramic base with a linen shade.'],
  ['t19', 'Cast Iron Skillet', 'kitchen', 'Forgewell', 'black', '12 in', '45.00', 'Pre-seasoned pan for searing and baking.'],
  ['t20', 'Espresso Machine', 'kitchen', 'Barista Pro', 'silver', null, '499.00', 'A 15-bar pump maker with a steam wand.'],
  ['t21', 'Stainless Steel Kettle', 'kitchen', 'Forgewell', 'silver', null, '39.00', 'Stovetop kettle with a whistle.'],
  ['t22', 'Carbon Road Bike', 'bikes', 'Velocita', 'red', '56 cm', '2499.00', 'Carbon frame road bicycle with electronic shifting.'],
  ['t23', 'Hardtail Mountain Bike', 'bikes', 'Trailhawk', 'orange', 'L', '1099.00', 'Front suspension bicycle for singletrack.'],
  ['t24', 'Cork Yoga Mat', 'yoga', 'Zenflow', 'natural', null, '69.00', 'Non-slip natural cork surface.'],
  ['t25', 'Yoga Block Set', 'yoga', 'Zenflow', 'purple', null, '19.00', 'Two foam blocks for support in poses.'],
  ['t26', 'Merino Wool Sweater', 'knitwear', 'Nordvik', 'grey', 'M', '95.00', 'Fine merino knit with a crew neck.'],
  ['t27', 'Denim Trucker Jacket', 'jackets', 'Heritage', 'blue', 'M', '110.00', 'Classic denim with a button front.'],
  ['t28', 'Portable Bluetooth Speaker', 'speakers', 'Sonora', 'blue', null, '79.00', 'Waterproof speaker with a 12 hour battery.'],
  ['t29', 'Smartwatch Fitness Tracker', 'accessories', 'Pulsefit', 'black', null, '149.00', 'Heart rate, GPS and sleep tracking.'],
  ['t30', "Chef's Knife", 'kitchen', 'Forgewell', 'steel', '20 cm', '85.00', 'Forged high-carbon steel blade.'],
  ['t31', 'Lightweight Running Shorts', 'sportswear', 'Stridex', 'black', 'M', '35.00', 'Quick-dry shorts with a zip pocket.'],
  ['t32', 'Linen Duvet Cover', 'bedding', 'Hygge Home', 'sand', 'Queen', '129.00', 'Stonewashed linen bedding.'],
  ['t33', 'Memory Foam Pillow', 'bedding', 'Dreamwell', 'white', null, '49.00', 'Contoured for neck support.'],
  ['t34', 'Carbon Trekking Poles', 'outdoor', 'Trailhawk', 'grey', null, '89.00', 'Collapsible poles for hiking.'],
  ['t35', 'Graphite Tennis Racket', 'racket', 'Acelite', 'yellow', null, '159.00', 'Oversize head for easy power.'],
  ['t36', 'Retro Canvas Sneakers', 'shoes', 'Heritage', 'red', '43', '55.00', 'Vulcanized sole and a canvas upper.'],
];

// Fillers: everyday goods whose words the judged queries do not use.
const nouns = ['Socks', 'Cable', 'Bottle', 'Mug', 'Towel', 'Backpack', 'Umbrella', 'Coaster',
  'Planter', 'Doormat', 'Candle', 'Clipboard'];
const adjectives = ['Everyday', 'Basic', 'Compact', 'Striped', 'Recycled', 'Sturdy', 'Simple', 'Handy'];
const brands = ['Dailyware', 'Simplo', 'Basics Co', 'Plainfolk'];
const colors = ['red', 'blue', 'green', 'black', 'white', 'yellow', 'grey'];

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(1313);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const products = targets.map(([key, name, category, brand, color, size, price, description]) => ({
  key, name, category, price, description, attributes: { brand, color, ...(size ? { size } : {}) },
}));
for (let i = 1; i <= 120; i++) {
  const noun = pick(nouns);
  const color = pick(colors);
  products.push({
    key: `f${String(i).padStart(3, '0')}`,
    name: `${pick(adjectives)} ${noun} ${i}`,
    category: 'everyday',
    price: `${(2 + Math.floor(rand() * 60))}.${String(Math.floor(rand() * 100)).padStart(2, '0')}`,
    description: `A dependable ${noun.toLowerCase()} in ${color}.`,
    attributes: { brand: pick(brands), color },
  });
}

const out = new URL('./catalog.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ seed: 1313, categories, products }, null, 1)}\n`);
console.log(`wrote ${products.length} products and ${categories.length} categories`);
