#include <stdio.h>
#include <string.h>

int main(void)
{
	char word[128], best[128] = "", seen[512][128];
	int counts[512] = {0}, n = 0, top = 0;
	while (scanf("%127s", word) == 1) {
		int i;
		for (i = 0; i < n && strcmp(seen[i], word); i++)
			;
		if (i == n && n < 512)
			strcpy(seen[n++], word);
		if (i < n && ++counts[i] > top) {
			top = counts[i];
			strcpy(best, word);
		}
	}
	printf("%s %d\n", best, top);
	return 0;
}
