/// Walks two streams sorted by the same key in step, calling `visit` once
/// per key with each stream's element at it (nil where a stream has none).
/// Diff (two snapshots' records), verify (a manifest and the tree it
/// describes) and checkout (a directory's entries and the snapshot's
/// records for it) all compare this way. Each stream is asked for its next
/// element only after the visit of its current one, so a visit may consume
/// what follows in a stream (a directory's records) before the merge goes on.
// Inlinable: each caller in another layer gets it specialized to its records, as before the layers were modules.
@inlinable package func mergeInOrder<A, B, Key: Comparable>(
    _ nextA: () throws -> A?, _ nextB: () throws -> B?, keyA: (A) -> Key, keyB: (B) -> Key,
    visit: (A?, B?) throws -> Void
) throws {
    var a = try nextA(), b = try nextB()
    while a != nil || b != nil {
        let ka = a.map(keyA), kb = b.map(keyB)
        if let ka, let kb, ka == kb {
            try visit(a, b)
            a = try nextA()
            b = try nextB()
        } else if let ka, kb == nil || ka < kb! {
            try visit(a, nil)
            a = try nextA()
        } else {
            try visit(nil, b)
            b = try nextB()
        }
    }
}
