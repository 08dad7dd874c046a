/* src/cli/main.c - placeholder entry point (replaced by the real CLI). */
#include <stdio.h>
int main(void) { return 0; }
