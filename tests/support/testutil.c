/*
 * testutil.c — see testutil.h.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tmp_root(void)
{
    const char *t = getenv("TMPDIR");
    return (t && *t) ? t : "/tmp";
}

void fg_test_tmpdir(const char *prefix, char *out, size_t out_size)
{
    int n = snprintf(out, out_size, "%s/fg-%s-XXXXXX", tmp_root(), prefix);
    assert_true(n > 0 && (size_t)n < out_size);
    assert_non_null(mkdtemp(out));
}

static void rmtree_rec(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char child[4096];
                int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof child)
                    rmtree_rec(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

void fg_test_rmtree(const char *path)
{
    const char *root = tmp_root();
    if (path == NULL || strncmp(path, root, strlen(root)) != 0 || strstr(path, "/fg-") == NULL)
        return;
    rmtree_rec(path);
}

char *fg_test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

long fg_test_file_count(const char *path, const void *needle, size_t needle_len)
{
    size_t len;
    char *data = fg_test_read_file(path, &len);
    if (!data)
        return -1;
    long count = 0;
    if (needle_len > 0 && needle_len <= len) {
        for (size_t i = 0; i + needle_len <= len; i++)
            if (memcmp(data + i, needle, needle_len) == 0)
                count++;
    }
    free(data);
    return count;
}

const char *fg_test_source_dir(void)
{
    const char *s = getenv("FINGUARD_SOURCE_DIR");
    return (s && *s) ? s : ".";
}
