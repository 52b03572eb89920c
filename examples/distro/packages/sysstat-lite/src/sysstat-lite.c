#include <stdio.h>

int main(void)
{
	double l[3];
	FILE *f = fopen("/proc/loadavg", "r");
	if (!f || fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3) {
		fputs("sysstat-lite: cannot read /proc/loadavg\n", stderr);
		return 1;
	}
	printf("load: %.2f %.2f %.2f\n", l[0], l[1], l[2]);
	return 0;
}
