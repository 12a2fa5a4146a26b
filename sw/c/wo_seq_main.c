/* wo_seq_main.c -- run emitted sequence models (sw.c_emit.emit_keras_sequence) over windows
 * or over a stream of samples: the host and ARM test driver.
 *
 * One executable holds any number of models: the table WO_SEQ_TABLE (a header written by
 * sw.c_build.build_sequence) includes their headers and lists them as wo_seq_model rows.
 *
 *   wo_seq NAME            windows: one line = one window, NAME_N_IN comma-separated floats
 *                          ([T][C] row-major); prints NAME_N_OUT outputs per line
 *   wo_seq NAME --stream   samples: one line = one sample, NAME_C floats, fed to NAME_push;
 *                          prints "<samples pushed>,<outputs>" whenever a window is done
 *   wo_seq --list          the model names, one per line
 *
 * Numbers are read with strtof (the shortest float32 repr round-trips); outputs are printed
 * with %.9g (enough digits for a float32). A malformed line: its number on stderr, exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int n_in, n_out, c;                       /* c = 0: no streaming API */
    int (*predict)(const float *x, float *p);
    void (*reset)(void);
    int (*push)(const float *sample, float *p);
} wo_seq_model;

#include WO_SEQ_TABLE

static char line[1 << 20];
static float in[WO_SEQ_MAX_IN];
static float out[WO_SEQ_MAX_OUT];

static int parse(char *s, int n, long lineno)
{
    int i;
    for (i = 0; i < n; i++) {
        char *end;
        in[i] = strtof(s, &end);
        if (end == s || (i < n - 1 && *end != ',')) {
            fprintf(stderr, "line %ld: expected %d comma-separated numbers\n", lineno, n);
            return 0;
        }
        s = end + 1;
    }
    return 1;
}

static void print_out(int n)
{
    int i;
    for (i = 0; i < n; i++)
        printf(i ? ",%.9g" : "%.9g", (double)out[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    const wo_seq_model *m = NULL;
    size_t k, n_models = sizeof WO_SEQ_MODELS / sizeof WO_SEQ_MODELS[0];
    int stream = argc > 2 && strcmp(argv[2], "--stream") == 0;
    long lineno = 0, pushed = 0;
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (k = 0; k < n_models; k++)
            printf("%s\n", WO_SEQ_MODELS[k].name);
        return 0;
    }
    for (k = 0; argc > 1 && k < n_models; k++)
        if (strcmp(argv[1], WO_SEQ_MODELS[k].name) == 0)
            m = &WO_SEQ_MODELS[k];
    if (!m || (argc > 2 && !stream) || argc > 3) {
        fprintf(stderr, "usage: %s NAME [--stream] < rows   |   %s --list\n", argv[0], argv[0]);
        return 2;
    }
    if (stream && !m->push) {
        fprintf(stderr, "%s: no streaming API (the input is not [T][C])\n", m->name);
        return 2;
    }
    if (stream)
        m->reset();
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(stdin)) {
            fprintf(stderr, "line %ld: longer than %d characters\n", lineno, (int)sizeof line);
            return 2;
        }
        if (!parse(line, stream ? m->c : m->n_in, lineno))
            return 2;
        if (!stream) {
            m->predict(in, out);
            print_out(m->n_out);
        } else {
            pushed++;
            if (m->push(in, out)) {
                printf("%ld,", pushed);
                print_out(m->n_out);
            }
        }
    }
    return 0;
}
