/* libxml2-floor: what libxml2 itself does with a page, in C, with no Swift around it.
 *
 *   cc -O2 $(pkg-config --cflags libxml-2.0) Benchmarks/libxml2-floor.c \
 *      $(pkg-config --libs libxml-2.0) -o /tmp/libxml2-floor
 *   /tmp/libxml2-floor page.html
 *
 * The floor under rewrite-benchmark's figures: the same parser flags and serialiser as
 * GardenRewrite's HTMLRewriter, measured as the median of 21 interleaved rounds of 20
 * documents each, in MB/s of input on one core:
 *   parse            htmlReadMemory + xmlFreeDoc
 *   parse+serialise  + htmlDocContentDumpFormatOutput into a memory buffer
 */
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/xmlIO.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double round_rate(const char *page, long size, int serialise) {
    const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET
        | HTML_PARSE_NODEFDTD;
    double start = seconds();
    for (int i = 0; i < 20; i++) {
        htmlDocPtr document = htmlReadMemory(page, (int)size, NULL, "UTF-8", options);
        if (serialise) {
            xmlOutputBufferPtr output = xmlAllocOutputBuffer(NULL);
            htmlDocContentDumpFormatOutput(output, document, "UTF-8", 0);
            xmlOutputBufferClose(output);
        }
        xmlFreeDoc(document);
    }
    return size * 20.0 / (seconds() - start) / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s page.html\n", argv[0]);
        return 2;
    }
    FILE *file = fopen(argv[1], "rb");
    if (!file) {
        perror(argv[1]);
        return 1;
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *page = malloc(size);
    if (fread(page, 1, size, file) != (size_t)size) {
        perror(argv[1]);
        return 1;
    }
    fclose(file);

    double parse[21], both[21];
    for (int round = 0; round < 21; round++) {
        parse[round] = round_rate(page, size, 0);
        both[round] = round_rate(page, size, 1);
    }
    qsort(parse, 21, sizeof(double), compare);
    qsort(both, 21, sizeof(double), compare);
    printf("libxml2 %s, %ld bytes, one core, median of 21 interleaved rounds of 20 documents\n", xmlParserVersion, size);
    printf("parse            %7.1f MB/s\n", parse[10]);
    printf("parse+serialise  %7.1f MB/s\n", both[10]);
    return 0;
}
