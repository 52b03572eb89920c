#include <stdio.h>
#include <greet.h>
#include <tally.h>

int main(int argc, char **argv)
{
	char buf[256];
	greet_format(buf, sizeof buf, argc > 1 ? argv[1] : "calcium");
	printf("%s (%zu words)\n", buf, tally_words(buf));
	return 0;
}
