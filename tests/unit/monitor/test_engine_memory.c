/*
 * test_engine_memory.c — issue #6 acceptance (MON-6): "10 M events over 1 M distinct IPs keep
 * RSS under the configured budget and report evictions". One aggregate rule by ip, a budget
 * of 32 MiB: the engine's own count stays within it, evictions are counted and reported as
 * FG_RULE_EVICTION firings, and the process's VmRSS grows by less than budget + 16 MiB.
 * Under AddressSanitizer (its shadow memory and quarantine make RSS meaningless) the run is
 * scaled to 1 M events over 100 k IPs and the RSS check is skipped. Prints events/s.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "monitor/engine.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* under ASan a tenth of the events and addresses: the budget shrinks with them, so the
 * table still overflows and evictions are still reported */
#define BUDGET (UNDER_ASAN ? (size_t)4u << 20 : (size_t)32u << 20)
#define SLACK ((size_t)16u << 20)

static long vmrss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0 && sscanf(line + 6, "%ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static uint64_t eviction_reports;

static void on_firing(void *ctx, const struct fg_firing *f)
{
    (void)ctx;
    if (strcmp(f->rule->id, FG_RULE_EVICTION) == 0)
        eviction_reports++;
}

static void test_ten_million_events_one_million_ips(void **state)
{
    (void)state;
    const uint64_t nevents = UNDER_ASAN ? 1000000u : 10000000u;
    const uint32_t nips = UNDER_ASAN ? 100000u : 1000000u;
    const char text[] = "- id: fail.byip\n  title: T\n  level: high\n"
                        "  match: {name: login.failed}\n"
                        "  aggregate: {function: count, by: [ip], window_s: 600, threshold: 5}\n"
                        "  suppress_s: 600\n";
    const char *names[] = {"mem.yaml"};
    const char *texts[] = {text};
    size_t lens[] = {strlen(text)};
    struct fg_rules *r = NULL;
    assert_int_equal(fg_rules_load_texts(names, texts, lens, 1, &r, NULL), FG_OK);
    long rss0 = vmrss_kib();
    struct fg_engine_options opt = {BUDGET, 480};
    struct fg_engine *e = NULL;
    assert_int_equal(fg_engine_new(r, &opt, &e), FG_OK);

    struct fg_mev ev;
    memset(&ev, 0, sizeof ev);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        ev.s[i] = "";
    ev.s[FG_MEV_F_NAME] = "login.failed";
    ev.s[FG_MEV_F_RESULT] = "bad";
    char ip[32];
    ev.s[FG_MEV_F_IP] = ip;
    uint64_t t0 = fg_time_mono_ns();
    for (uint64_t i = 0; i < nevents; i++) {
        /* a scrambled walk over the IPs: every IP comes back ~10 times, all within 600 s */
        uint32_t k = (uint32_t)((i * 2654435761u) % nips);
        snprintf(ip, sizeof ip, "10.%u.%u.%u", (k >> 16) & 255u, (k >> 8) & 255u, k & 255u);
        ev.time_ms = 1772416800000LL + (int64_t)(i / 100u); /* 10 M events in 100 s */
        ev.seq = (int64_t)i + 1;
        assert_int_equal(fg_engine_feed(e, &ev, on_firing, NULL), FG_OK);
    }
    double secs = (double)(fg_time_mono_ns() - t0) / 1e9;
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    long rss1 = vmrss_kib();
    printf("# %llu events over %u IPs in %.2f s: %.0f events/s (incl. formatting the IP); "
           "keys %zu, bytes %zu of %zu, evictions %llu, reports %llu, RSS +%ld KiB\n",
           (unsigned long long)nevents, nips, secs, (double)nevents / secs, st.keys, st.bytes_used,
           st.bytes_budget, (unsigned long long)st.evictions, (unsigned long long)eviction_reports,
           rss1 - rss0);
    assert_true(st.bytes_used <= BUDGET);
    assert_true(st.evictions > 0);
    assert_int_equal(fg_engine_rule_evictions(e, 0), st.evictions);
    assert_true(eviction_reports >= 1);
    assert_true(eviction_reports <= 2); /* once per rule per minute of event time: 100 s */
    if (!UNDER_ASAN && rss0 > 0 && rss1 > 0)
        assert_true((size_t)(rss1 - rss0) * 1024u < BUDGET + SLACK);
    fg_engine_free(e);
    fg_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_million_events_one_million_ips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
