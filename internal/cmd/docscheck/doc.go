// Command docscheck checks the repository's Markdown: every Go snippet
// compiles, and every relative link resolves. CI runs it from .ci/run:
//
//	go run ./internal/cmd/docscheck
//
// It reads README.md, every Markdown file under docs/, and the README.md of
// every nested module (a directory with its own go.mod). It prints one line
// per problem, "file:line: message", and exits 1 if there is any.
//
// # Snippets
//
// Every fenced block tagged go is compiled, all of them in one `go build`:
// each becomes a package of a temporary module that a go.work file joins
// with every module of the checkout, so snippets import the checkout's
// packages (nested modules and their dependencies included) as a user's
// code would after a `replace`. `//line` directives make the compiler's
// errors name the Markdown file and line.
//
//   - A block whose first line of code is a package clause is a complete
//     file and is compiled as it stands, but for package main, which is
//     compiled as a library (linking a binary per snippet would cost seconds
//     each and prove nothing more).
//
//   - Any other block is a fragment: a sequence of statements, compiled as
//     the body of a function. Its imports are inferred from the package names
//     it uses (see knownPackages); variables it declares at its top level
//     may go unused, and a value it only shows (a composite literal on a
//     line of its own) is assigned to _. Everything else must compile.
//
//   - A fragment that uses names it does not declare (a handler, an error
//     from the surrounding code) declares them in an HTML comment on the
//     line right before the fence, which readers of the rendered page do
//     not see:
//
//     <!-- docscheck: var err error; var backoff time.Duration -->
//
//     Its text is compiled as package-level declarations before main.
//
// Pseudo-code that is not meant to compile belongs in a text block.
//
// # Links
//
// Every inline link and image outside code whose target is not a URL must
// name a file or directory that exists, relative to the Markdown file; a
// #fragment pointing into a Markdown file must match one of its headings,
// turned into an anchor the way GitHub does (lower case, punctuation
// dropped, spaces to hyphens, -1, -2 ... for repeats).
package main
