import EmuPOSIX
import Glibc

/// Makes `--to DIR` when it is missing, deals with what a killed checkout
/// left there, and refuses a DIR that holds anything else unless `force`.
/// Returns its absolute path, its handle (nil in a dry run into a missing
/// DIR) and whether it is empty.
func prepareDestination(_ destination: String, for snapshot: Snapshot, from sink: Sink,
                        options: CheckoutOptions) throws -> (String, DirectoryHandle?, Bool) {
    let targetPath = absolutePath(destination)
    if !isDirectory(targetPath) && !options.dryRun {
        do { try makeDirectory(targetPath) } catch let error as FileSystemError {
            throw EmuError(error, fix: "create its parent directory first")
        }
    }
    let targetRoot = isDirectory(targetPath) ? try DirectoryHandle.open(targetPath) : nil
    // What a killed checkout left: a staging directory, finished when its tree was whole, else dropped.
    var finished: String? = nil
    for entry in try targetRoot?.entries() ?? [] where entry.name.bytes.starts(with: Restorer.temporaryPrefix) {
        finished = try recoverStaging(entry.name, in: targetRoot!, path: targetPath, for: snapshot, options: options) ?? finished
    }
    let isEmpty = try targetRoot?.entries().allSatisfy { $0.name.bytes.starts(with: Restorer.temporaryPrefix) } ?? true
    // DIR holds this snapshot's tree, placed by the checkout that was killed: mended like any other.
    let ownWork = finished == snapshot.id
    if !options.force && !isEmpty && !ownWork, let targetRoot {
        throw try refusal(into: targetRoot, path: targetPath, snapshot: try sink.openRecords(snapshot), scopes: options.paths)
    }
    return (targetPath, targetRoot, isEmpty)
}

/// Deals with what a killed checkout left in `--to DIR`: a staging directory
/// whose tree was not whole is dropped; a whole one is moved into place when
/// this checkout restores the same snapshot or `--force` says to, and
/// returns its snapshot's ID; otherwise the checkout is refused, saying how
/// to finish it.
func recoverStaging(_ name: FileName, in target: DirectoryHandle, path: String, for snapshot: Snapshot,
                    options: CheckoutOptions) throws -> String? {
    guard let id = StagedCheckout.wholeTree(name), (try? target.status(name))?.kind == .directory else {
        if !options.dryRun { try target.removeTree(name) }
        return nil
    }
    guard id == snapshot.id || options.force else {
        throw EmuError.failed("\(path) holds a checkout of snapshot \(id.prefix(8)) that was killed while moving into place",
                              fix: "finish it with `emu checkout \(id.prefix(8)) --to \(path)`, or pass --force to overwrite it")
    }
    if !options.dryRun { try StagedCheckout.finish(name, in: target) }
    return id
}
