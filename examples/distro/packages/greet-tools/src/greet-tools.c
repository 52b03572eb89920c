#include <stdio.h>
#include <greet.h>

int main(void)
{
	printf("libgreet %s\n", greet_version());
	return 0;
}
