/* wo_predict_main.c -- run one emitted classifier over feature rows (host and ARM test driver).
 *
 * Build (the model's header and entry point come in as macros):
 *   cc -std=c99 -O2 -ffp-contract=off -I<dir> \
 *      -DWO_HEADER='"wo_dnn4_f32.h"' -DWO_PREDICT=wo_dnn4_f32_predict \
 *      -DWO_N_FEATURES=WO_DNN4_F32_N_FEATURES wo_predict_main.c <dir>/wo_dnn4_f32.c
 *
 * Input (stdin or the file named by argv[1]): one row per line, WO_N_FEATURES
 * comma-separated decimal floats (read with strtof), no header.
 * Output (stdout): one line per row, "<label>,<score>" with the score as %.9g
 * (enough digits to round-trip a float32). A malformed row is reported on
 * stderr with its line number and the exit status is 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include WO_HEADER

int main(int argc, char **argv)
{
    FILE *in = stdin;
    char line[4096];
    long lineno = 0;
    if (argc > 1 && !(in = fopen(argv[1], "r"))) {
        perror(argv[1]);
        return 2;
    }
    while (fgets(line, sizeof line, in)) {
        float x[WO_N_FEATURES], score = 0.0f;
        char *p = line, *end;
        int i, label;
        lineno++;
        for (i = 0; i < WO_N_FEATURES; i++) {
            x[i] = strtof(p, &end);
            if (end == p || (i < WO_N_FEATURES - 1 && *end != ',')) {
                fprintf(stderr, "line %ld: expected %d comma-separated numbers\n", lineno, WO_N_FEATURES);
                return 2;
            }
            p = end + 1;
        }
        label = WO_PREDICT(x, &score);
        printf("%d,%.9g\n", label, (double)score);
    }
    return 0;
}
