/* fuzz_money.c - decimal amounts from clients (kit/money.h): parsing in
 * every exponent, and the round trip parse → format → parse. Input:
 * "<currency>\n<amount>". */
#include <stdio.h>

#include "fuzz.h"
#include "kit/err.h"
#include "kit/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *currency, *amount;
  size_t clen, alen;
  fuzz_split(data, size, '\n', &currency, &clen, &amount, &alen);
  const char *currencies[] = {currency, "USD", "JPY", "BHD", "EUR"};
  for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
    money_currency_valid(currencies[i]);
    money_currency_exponent(currencies[i]);
    int64_t minor = 0, again = 0;
    char buf[64];
    if (money_parse(amount, currencies[i], &minor) == KIT_OK) {
      if (minor < 0) abort(); /* unsigned parse gave a negative */
      if (money_format(minor, currencies[i], buf) == NULL) abort();
      if (money_parse(buf, currencies[i], &again) != KIT_OK || again != minor)
        abort(); /* what we print, we read back */
    }
    if (money_parse_signed(amount, currencies[i], &minor) == KIT_OK) {
      if (money_format(minor, currencies[i], buf) == NULL) abort();
      if (money_parse_signed(buf, currencies[i], &again) != KIT_OK ||
          again != minor)
        abort();
      int64_t out;
      money_add(minor, again, &out);
      money_sub(minor, again, &out);
      money_mul(minor, 99, &out);
      money_apply_bp(minor, 2500, &out);
    }
  }
  free(currency);
  free(amount);
  return 0;
}
