# Turns data/*.yaml into a C table (generated/data_files.c): name → NUL-terminated text.
# Called by CMakeLists.txt with -DOUT=... -DFILES="a;b" -DROOT=<data dir>; a file's name is its
# path under ROOT ("roles.yaml", "rules/auth.yaml").
separate_arguments(FILES)
set(out "/* generated from the data directory by scripts/embed-data.cmake: do not edit */\n")
string(APPEND out "#include \"base/data.h\"\n\n")
set(entries "")
set(count 0)
foreach(f ${FILES})
  file(RELATIVE_PATH name ${ROOT} ${f})
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND out "static const char d${count}[] = {${hex} 0};\n")
  string(APPEND entries "    {\"${name}\", d${count}, sizeof d${count} - 1},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND out "\nconst struct fg_data_file fg_data_files[] = {\n${entries}    {0, 0, 0}\n};\n")
file(WRITE ${OUT}.tmp "${out}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
