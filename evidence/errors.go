package evidence

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidationError is one reason a document was rejected.
type ValidationError struct {
	// Source names the document, usually its file path; "" when unknown.
	Source string
	// Pointer is the RFC 6901 JSON pointer of the offending value; "" is the
	// whole document.
	Pointer string
	// Keyword is the JSON Schema keyword that failed ("enum", "required",
	// "additionalProperties", …) or, for a document that could not be
	// decoded, one of "max-bytes", "utf8", "syntax", "duplicate-key",
	// "max-depth", "trailing-data", "number", "type".
	Keyword string
	// Message says what was expected.
	Message string
}

// Error formats e as "source: /pointer: keyword: message"; the whole
// document's pointer is shown as "(root)", since "/" is the pointer of the
// key "".
func (e ValidationError) Error() string {
	p := e.Pointer
	if p == "" {
		p = "(root)"
	}
	if e.Source == "" {
		return fmt.Sprintf("%s: %s: %s", p, e.Keyword, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s: %s", e.Source, p, e.Keyword, e.Message)
}

// ValidationErrors is every reason a document was rejected, sorted by
// pointer. All validation failures of this package are reported as
// ValidationErrors, even a single one; errors.As also finds each
// ValidationError in it.
type ValidationErrors []ValidationError

// Error returns one error per line.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each ValidationError, for errors.As.
func (es ValidationErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// schemaErrors flattens a jsonschema error tree into its leaves, which are
// the failures a user can act on; the inner nodes only say "allOf failed".
func schemaErrors(source string, err error) ValidationErrors {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return ValidationErrors{{Source: source, Keyword: "schema", Message: err.Error()}}
	}
	var out ValidationErrors
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, leafErrors(source, pointer(e.InstanceLocation), e.ErrorKind)...)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// The envelope and the kind schema can both reject the same value.
	slices.SortFunc(out, func(a, b ValidationError) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Keyword, b.Keyword), strings.Compare(a.Message, b.Message))
	})
	return slices.Compact(out)
}

var printer = message.NewPrinter(language.English)

// leafErrors words a failed keyword as what was expected. Required and
// additionalProperties yield one error per property so that each can be
// fixed, and deduplicated, on its own.
func leafErrors(source, ptr string, k jsonschema.ErrorKind) []ValidationError {
	one := func(keyword, format string, args ...any) []ValidationError {
		return []ValidationError{{source, ptr, keyword, fmt.Sprintf(format, args...)}}
	}
	switch k := k.(type) {
	case *kind.Required:
		var out []ValidationError
		for _, p := range k.Missing {
			out = append(out, one("required", "missing property %q", p)...)
		}
		return out
	case *kind.AdditionalProperties:
		var out []ValidationError
		for _, p := range k.Properties {
			out = append(out, one("additionalProperties", "additional property %q is not allowed", p)...)
		}
		return out
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		if len(want) == 1 {
			return one("enum", "value must be %s", want[0])
		}
		return one("enum", "value must be one of %s", strings.Join(want, ", "))
	case *kind.Const:
		return one("const", "value must be %s", display(k.Want))
	case *kind.Type:
		return one("type", "value must be of type %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Pattern:
		return one("pattern", "value %s does not match pattern %s", display(k.Got), display(k.Want))
	case *kind.Format:
		return one("format", "value %s is not a valid %s: %v", display(k.Got), k.Want, k.Err)
	case *kind.MinLength:
		return one("minLength", "value must be at least %d characters long, got %d", k.Want, k.Got)
	case *kind.MinItems:
		return one("minItems", "array must have at least %d items, got %d", k.Want, k.Got)
	case *kind.Minimum:
		return one("minimum", "value must be >= %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return one("maximum", "value must be <= %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.FalseSchema:
		// The schemas use false only to forbid a property in some state
		// (outcome fields on a requested Deploy).
		name := ptr[strings.LastIndexByte(ptr, '/')+1:]
		return one("false", "property %q is not allowed here", name)
	}
	keyword := strings.Join(k.KeywordPath(), "/")
	if keyword == "" {
		keyword = "schema"
	}
	return one(keyword, "%s", k.LocalizedString(printer))
}

// ratString renders a number the way a document would spell it.
func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// display renders a JSON value the way it would be written in the document.
func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
