#!/usr/bin/env bash
# checksrc.sh SRC_ROOT — the house rules a compiler does not enforce (curl's checksrc in
# spirit), over every *.c / *.h under src/ tests/ bench/ fuzz/:
#   - no unbounded or unsafe string/number functions: strcpy strcat sprintf vsprintf gets
#     atoi atol atoll strtok strncpy alloca (use snprintf, fg_buf, memcpy with explicit
#     lengths, strtol/strtoll with full checks);
#   - no tabs in indentation;
#   - no line longer than 120 characters (characters, not bytes: UTF-8 in comments is fine).
# Comments and the insides of string and character literals are ignored for the banned
# calls (a heuristic: a string continued across lines with a backslash is not followed),
# and names merely containing a banned one (snprintf, fgets, strtok_r) do not match.
# Prints "file:line: problem" for each finding and exits 1, else "checksrc: N files clean".
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 SRC_ROOT" >&2
  exit 2
fi
cd "$1"

dirs=()
for d in src tests bench fuzz; do
  [ -d "$d" ] && dirs+=("$d")
done
files=()
if [ ${#dirs[@]} -gt 0 ]; then
  while IFS= read -r f; do
    files+=("$f")
  done < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "checksrc: no source files under $1" >&2
  exit 1
fi

LC_ALL=C awk '
function code_of(line,    out, i, n, c, two, q, d) {
    out = ""; i = 1; n = length(line)
    while (i <= n) {
        two = substr(line, i, 2)
        if (in_block) {
            if (two == "*/") { in_block = 0; i += 2 } else { i++ }
            continue
        }
        if (two == "/*") { in_block = 1; out = out " "; i += 2; continue }
        if (two == "//") break
        c = substr(line, i, 1)
        if (c == "\"" || c == "\047") {
            q = c; out = out q; i++
            while (i <= n) {
                d = substr(line, i, 1)
                if (d == "\\") { i += 2; continue }
                if (d == q) break
                i++
            }
            out = out q; i++
            continue
        }
        out = out c; i++
    }
    return out
}
FNR == 1 { in_block = 0 }
{
    code = code_of($0)
    rest = code
    while (match(rest, /(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|strncpy|alloca)[ \t]*\(/)) {
        name = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        sub(/^[^A-Za-z0-9_]/, "", name)
        sub(/[ \t]*\($/, "", name)
        printf "%s:%d: banned function %s\n", FILENAME, FNR, name
        bad++
    }
    if ($0 ~ /^ *\t/) {
        printf "%s:%d: tab in indentation\n", FILENAME, FNR
        bad++
    }
    chars = $0
    continuation = gsub(/[\200-\277]/, "", chars)
    if (length($0) - continuation > 120) {
        printf "%s:%d: line longer than 120 characters (%d)\n", FILENAME, FNR,
               length($0) - continuation
        bad++
    }
}
END { exit bad > 0 ? 1 : 0 }
' "${files[@]}" && status=0 || status=$?

if [ "$status" -ne 0 ]; then
  exit 1
fi
echo "checksrc: ${#files[@]} files clean"
