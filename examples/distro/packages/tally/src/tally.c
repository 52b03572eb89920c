#include <stdio.h>
#include <stdlib.h>
#include <tally.h>

int main(void)
{
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, stdin);
	buf[n] = 0;
	printf("%zu lines, %zu words\n", tally_lines(buf), tally_words(buf));
	return 0;
}
