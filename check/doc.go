// Package check verifies a pull request's change to the kernel files of a
// nixpkgs tree: it is what `kupdate check` runs as a pull request status
// check. It resolves the revisions and the merge base, reads the kernel
// families' files at each (with the git CLI), and runs the verifier of
// each family the tree carries (family.Verifier): each checks its own
// files against its own sources (kernel.org's releases and signed hashes,
// linux-hardened's releases, ...). Across families it checks that each
// commit is titled after what it changes, one branch per commit, and it
// reports the whole (text, JSON, markdown, a conclusion). A change to the
// files of a family without a verifier is reported as unverified: the
// check is then incomplete, never a pass.
package check
