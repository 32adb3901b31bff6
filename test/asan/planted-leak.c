/* Loaded by test/asan/addon-churn.mjs (npm run test:asan): its constructor loses one allocation,
   so a leak report naming this file proves LeakSanitizer checked that Node process at exit. */
#include <stdlib.h>
#include <string.h>

void* volatile procprobe_planted; /* written, then cleared: the block is unreachable */

__attribute__((constructor)) static void procprobe_plant_leak(void) {
  procprobe_planted = malloc(77);
  memset(procprobe_planted, 1, 77);
  procprobe_planted = 0;
}
