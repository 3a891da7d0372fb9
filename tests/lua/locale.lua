-- os.setlocale: C, POSIX and C.UTF-8 exist; any other name fails with nil and changes nothing; queries report
-- what was set (one name, or glibc's LC_x=…; list when the categories differ). The environment is fixed by the
-- differential suite's case (LANG, LC_ALL, LC_NUMERIC).
print(os.setlocale("pt_BR"), os.setlocale("fr_FR.UTF-8"), os.setlocale("de_DE", "numeric"), os.setlocale(nil))
print(os.setlocale("C"), os.setlocale("POSIX"), os.setlocale(nil), os.setlocale("C.utf8"), os.setlocale(nil))
print(os.setlocale("C.UTF-8", "ctype"), os.setlocale(nil))
print(os.setlocale("C", "all"), os.setlocale("C.UTF-8", "numeric"), os.setlocale(nil, "numeric"), os.setlocale(nil))
print(os.setlocale("", "time"), os.setlocale(nil, "time"), os.setlocale("", "numeric"), os.setlocale(""))
print(os.setlocale(nil), os.setlocale(nil, "collate"), os.setlocale(nil, "monetary"))
print(pcall(os.setlocale, "C", "nonsense"))
-- a locale that was refused does not change how numbers read or print
print(os.setlocale("pt_BR.UTF-8"), tonumber("3,4"), tonumber("3.4"), string.format("%.2f", 3.25), 1e15, 2^63)
