#ifndef GARDEN_CLIBXML2_SHIM_H
#define GARDEN_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU, and encoding.h then includes ICU's headers, which
   clash with the copy Foundation carries. The garden never touches the encoding
   handler's fields (only pointers to it), so it is read without them. */
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>

/// xmlFree is a global function pointer, which Swift 6 treats as shared mutable state;
/// calling it through an inline function keeps that out of Swift.
static inline void garden_xml_free(void *pointer) { xmlFree(pointer); }

/// Silences libxml2's default error printer (it writes to stderr) for this thread.
static void garden_xml_ignore_error(void *context, const char *message, ...) { (void)context; (void)message; }
static inline void garden_xml_silence(void) { xmlSetGenericErrorFunc(NULL, garden_xml_ignore_error); }

#endif
