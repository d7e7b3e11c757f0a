package console

import (
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
)

// Table writes rows as a text table (go-pretty), each line starting with
// indent: cells separated by a space and padded to the widest cell of
// their column, or to the column's width in widths (0: none); no
// borders, no trailing spaces. No rows writes nothing.
func Table(w io.Writer, indent string, widths []int, rows []table.Row) error {
	if len(rows) == 0 {
		return nil
	}
	t := table.NewWriter()
	st := table.StyleDefault
	st.Box.PaddingLeft, st.Box.PaddingRight = "", " "
	st.Options = table.Options{}
	t.SetStyle(st)
	t.SuppressTrailingSpaces()
	cols := make([]table.ColumnConfig, len(widths))
	for i, n := range widths {
		cols[i] = table.ColumnConfig{Number: i + 1, WidthMin: n}
	}
	t.SetColumnConfigs(cols)
	t.AppendRows(rows)
	var b strings.Builder
	for line := range strings.Lines(t.Render() + "\n") {
		b.WriteString(indent + line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
