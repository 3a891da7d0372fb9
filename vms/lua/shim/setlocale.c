/* setlocale as glibc answers it: wasi-libc (musl) accepts any locale name and
 * returns it, so os.setlocale("pt_BR") claimed a locale that changes nothing
 * and scripts took the branch for a locale they did not get. The locales this
 * libc has are C (also named POSIX, reported as "C") and C.UTF-8 (any spelling
 * of C.utf8, kept as given, as glibc does); any other name fails with NULL and
 * changes nothing. "" picks each category's name from LC_ALL, LC_<category> or
 * LANG. Queries report what was set, in glibc's forms: one name when every
 * category has it, else "LC_CTYPE=…;LC_NUMERIC=…;…" over glibc's twelve
 * categories. The build links with --wrap=setlocale; the accepted names are
 * passed on to musl's setlocale, so its LC_CTYPE follows. Callers hold the
 * interpreter lock (one setlocale at a time). */
#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

char *__real_setlocale(int category, const char *name);

/* musl's LC_CTYPE … LC_MESSAGES are 0 … 5, glibc's first six in its order. */
#define MUSL_CATEGORIES 6
#define CATEGORIES 12
#define NAME_MAX_LEN 31

static const char *const category_names[CATEGORIES] = {
    "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
    "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"};

static char current[CATEGORIES][NAME_MAX_LEN + 1] = {"C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C"};
static char answer[CATEGORIES * (NAME_MAX_LEN + 20) + 1];

/* C, POSIX, or C.<codeset> where the codeset is UTF-8 however spelt (glibc
 * compares codesets lower-cased with punctuation dropped). */
static int available(const char *name) {
  if (strlen(name) > NAME_MAX_LEN) return 0;
  if (!strcmp(name, "C") || !strcmp(name, "POSIX")) return 1;
  if (strncmp(name, "C.", 2) != 0) return 0;
  char norm[NAME_MAX_LEN + 1];
  size_t n = 0;
  for (const char *p = name + 2; *p; p++)
    if (isalnum((unsigned char)*p)) norm[n++] = (char)tolower((unsigned char)*p);
  norm[n] = '\0';
  return !strcmp(norm, "utf8");
}

/* The name "" stands for in `category`: the environment, as glibc reads it. */
static const char *from_environment(int category) {
  const char *v = getenv("LC_ALL");
  if (v && *v) return v;
  if ((v = getenv(category_names[category])) && *v) return v;
  if ((v = getenv("LANG")) && *v) return v;
  return "C";
}

static const char *reported(const char *name) { return strcmp(name, "POSIX") ? name : "C"; }

static char *query(int category) {
  if (category != LC_ALL) return current[category];
  int same = 1;
  for (int i = 1; i < CATEGORIES; i++) same &= !strcmp(current[i], current[0]);
  if (same) return current[0];
  char *p = answer;
  for (int i = 0; i < CATEGORIES; i++) {
    size_t k = strlen(category_names[i]), v = strlen(current[i]);
    if (i) *p++ = ';';
    memcpy(p, category_names[i], k), p += k, *p++ = '=';
    memcpy(p, current[i], v), p += v;
  }
  *p = '\0';
  return answer;
}

char *__wrap_setlocale(int category, const char *name) {
  int first = category == LC_ALL ? 0 : category, last = category == LC_ALL ? CATEGORIES - 1 : category;
  if (category != LC_ALL && (category < 0 || category >= MUSL_CATEGORIES)) return NULL;
  if (name == NULL) return query(category);
  const char *chosen[CATEGORIES];
  for (int i = first; i <= last; i++) {
    chosen[i] = *name ? name : from_environment(i);
    if (!available(chosen[i])) return NULL; /* all or nothing, as glibc */
  }
  for (int i = first; i <= last; i++) {
    strcpy(current[i], reported(chosen[i]));
    if (i < MUSL_CATEGORIES) __real_setlocale(i, chosen[i]);
  }
  return query(category);
}
