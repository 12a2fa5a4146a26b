/* wo_predict_main.c -- run one emitted classifier over feature rows (host and ARM test driver).
 *
 * Build (the model's header and entry points come in as macros):
 *   cc -std=c99 -O2 -ffp-contract=off -I<dir> \
 *      -DWO_HEADER='"wo_dnn4_f32.h"' -DWO_PREDICT=wo_dnn4_f32_predict \
 *      [-DWO_DECIDE=wo_dnn4_f32_decide] \
 *      -DWO_N_FEATURES=WO_DNN4_F32_N_FEATURES wo_predict_main.c <dir>/wo_dnn4_f32.c
 *
 * Usage: prog [--decide] [--repeat R] [FILE]
 *
 * Input (stdin or FILE): one row per line, WO_N_FEATURES comma-separated decimal floats
 * (read with strtof), no header.
 * Output (stdout): one line per row, "<label>,<score>" with the score as %.9g
 * (enough digits to round-trip a float32). A malformed row is reported on
 * stderr with its line number and the exit status is 2.
 *
 * --decide (models with a decision-only entry point, WO_DECIDE): the label of
 * WO_DECIDE and "nan" for the score.
 * --repeat R (R >= 1): read every row first, then run the model over all of them R times
 * and print the outputs of the last pass only -- for instruction counts: the count of
 * R = 2 minus the count of R = 1 is one pass of the model over the rows (plus this loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include WO_HEADER

static int parse_row(const char *line, float *x, long lineno)
{
    const char *p = line;
    char *end;
    int i;
    for (i = 0; i < WO_N_FEATURES; i++) {
        x[i] = strtof(p, &end);
        if (end == p || (i < WO_N_FEATURES - 1 && *end != ',')) {
            fprintf(stderr, "line %ld: expected %d comma-separated numbers\n", lineno, WO_N_FEATURES);
            return 0;
        }
        p = end + 1;
    }
    return 1;
}

static int run_one(const float *x, float *score, int decide)
{
#ifdef WO_DECIDE
    if (decide) {
        *score = 0.0f / 0.0f;
        return WO_DECIDE(x);
    }
#else
    (void)decide;
#endif
    return WO_PREDICT(x, score);
}

int main(int argc, char **argv)
{
    FILE *in = stdin;
    char line[4096];
    long lineno = 0, n = 0, cap = 0, r, k, repeat = 0;
    int decide = 0, a;
    float *rows = NULL;
    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--decide")) {
#ifdef WO_DECIDE
            decide = 1;
#else
            fprintf(stderr, "--decide: this model has no decision-only entry point\n");
            return 2;
#endif
        } else if (!strcmp(argv[a], "--repeat") && a + 1 < argc) {
            repeat = strtol(argv[++a], NULL, 10);
            if (repeat < 1) {
                fprintf(stderr, "--repeat: expected a count >= 1\n");
                return 2;
            }
        } else if (in == stdin && !(in = fopen(argv[a], "r"))) {
            perror(argv[a]);
            return 2;
        }
    }
    while (fgets(line, sizeof line, in)) {
        float x[WO_N_FEATURES], score = 0.0f;
        int label;
        lineno++;
        if (!repeat) {
            if (!parse_row(line, x, lineno))
                return 2;
            label = run_one(x, &score, decide);
            printf("%d,%.9g\n", label, (double)score);
            continue;
        }
        if (n == cap) {
            float *more = realloc(rows, sizeof *rows * WO_N_FEATURES * (size_t)(cap = 2 * cap + 64));
            if (!more) {
                fprintf(stderr, "out of memory\n");
                return 2;
            }
            rows = more;
        }
        if (!parse_row(line, rows + n * WO_N_FEATURES, lineno))
            return 2;
        n++;
    }
    for (r = 0; r < repeat; r++) {
        for (k = 0; k < n; k++) {
            float score = 0.0f;
            int label = run_one(rows + k * WO_N_FEATURES, &score, decide);
            if (r == repeat - 1)
                printf("%d,%.9g\n", label, (double)score);
        }
    }
    free(rows);
    return 0;
}
