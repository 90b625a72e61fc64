/*
 * fuzz_config.c — the INI configuration loader on arbitrary bytes.
 *
 * The input is copied into an exactly-sized, NUL-terminated buffer and loaded over the
 * defaults. Invariants: loading never crashes or leaks; it succeeds exactly when it
 * reported no error; every error line has the "fuzz:LINE: " origin prefix; whatever was
 * loaded passes the table's own field checks (a rejected value never lands), so
 * validation can only fail on cross-field rules; the dump never prints the sensitive
 * value.
 */
#include <string.h>

#include "fuzz.h"

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';

    struct fg_config cfg;
    fg_config_defaults(&cfg);
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    fg_rc rc = fg_config_load_string(&cfg, text, size, "fuzz", &errors);
    const char *e = fg_buf_str(&errors);
    if (rc == FG_OK)
        FUZZ_CHECK(e[0] == '\0');
    else
        FUZZ_CHECK(rc == FG_ERR_CONFIG || rc == FG_ERR_TOO_LARGE);
    if (rc == FG_ERR_CONFIG) {
        FUZZ_CHECK(e[0] != '\0');
        for (const char *line = e; *line != '\0';) {
            FUZZ_CHECK(strncmp(line, "fuzz:", 5) == 0);
            const char *nl = strchr(line, '\n');
            FUZZ_CHECK(nl != NULL);
            line = nl + 1;
        }
    }

    /* Every field passed its row when loaded, so only the cross-field rules can fail. */
    fg_buf_reset(&errors);
    rc = fg_config_validate(&cfg, &errors);
    static const char *const cross_field[] = {"server.tls: plain HTTP",
                                              "diag.write_probe: the write probe",
                                              "server.tls_key: server.tls_cert and",
                                              "outbox.sink: the file sink",
                                              "keys.dev_mode: development mode"};
    for (const char *line = fg_buf_str(&errors); *line != '\0';) {
        int known = 0;
        for (size_t i = 0; i < sizeof cross_field / sizeof cross_field[0]; i++)
            known |= strncmp(line, cross_field[i], strlen(cross_field[i])) == 0;
        FUZZ_CHECK(known);
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        line = nl + 1;
    }
    FUZZ_CHECK((rc == FG_OK) == (fg_buf_str(&errors)[0] == '\0'));

    if (cfg.server_metrics_token[0] != '\0') {
        char *dump = NULL;
        size_t dump_len = 0;
        FILE *f = open_memstream(&dump, &dump_len);
        if (f != NULL) {
            fg_config_dump(&cfg, f);
            fclose(f);
            FUZZ_CHECK(strstr(dump, "metrics_token = [redacted]\n") != NULL);
            free(dump);
        }
    }
    fg_buf_release(&errors);
    free(text);
    return 0;
}
