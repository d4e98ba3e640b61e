// Package check verifies a change to the kernel files of a nixpkgs tree
// against kernel.org: every changed kernels-org.json entry is a real release
// of its branch with kernel.org's signed hash, nothing goes backwards or comes
// back after its end of life, inits and removals are complete, the file is
// formatted as kupdate writes it, and each commit's title says what the commit
// changes. It is what `kupdate check` runs as a pull request status check.
package check
