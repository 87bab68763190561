/* cli/model_docs.h — a model's parameter and state-variable tables as Markdown, made from its
 * descriptor alone: `nsim models --markdown` prints them, docs/models.md holds them between
 * marker comments, and tests/test_registry.c fails when the two differ. */
#ifndef NS_MODEL_DOCS_H
#define NS_MODEL_DOCS_H

#include "models/model.h"

/* Model m's tables as Markdown: parameters (name, unit, default, range, meaning) then state
 * variables (name, unit, bound, meaning; bookkeeping variables left out), each ending with a
 * newline, separated by a blank line. A malloc'd string the caller frees, or NULL when memory
 * runs out. */
char *ns_model_docs_tables(const ns_model *m);

/* The lines that enclose model `name`'s tables in docs/models.md, without a newline, into buf
 * (len bytes): "<!-- nsim models --markdown NAME begin -->" (end 0) or "... end -->" (end 1). */
void ns_model_docs_marker(const char *name, int end, char *buf, size_t len);

#endif
