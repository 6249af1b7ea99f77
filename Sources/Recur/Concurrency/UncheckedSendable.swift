/// Lets worker closures share a value they use in disjoint parts (slots of a buffer, the
/// rows of a batch); for this package's own parallel loops.
package struct UncheckedSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
