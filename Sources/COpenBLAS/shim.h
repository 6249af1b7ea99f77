#include <cblas.h>
// OpenBLAS extension: set the number of BLAS threads between calls.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
