import EmuPOSIX
import Glibc
import EmuRecords

/// Makes `--to DIR` when it is missing, deals with what a killed checkout
/// left there, and refuses a DIR that holds anything else unless `force`.
/// Returns its absolute path, its handle (nil in a dry run into a missing
/// DIR) and whether it is empty.
package func prepareDestination(_ destination: String, for snapshot: Snapshot, from sink: any SinkStore,
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
    for entry in try targetRoot?.entries() ?? [] where entry.name.bytes.starts(with: CheckoutWalk.temporaryPrefix) {
        finished = try StagedCheckout.recover(entry.name, in: targetRoot!, path: targetPath, for: snapshot, options: options) ?? finished
    }
    let isEmpty = try targetRoot?.entries().allSatisfy { $0.name.bytes.starts(with: CheckoutWalk.temporaryPrefix) } ?? true
    // DIR holds this snapshot's tree, placed by the checkout that was killed: mended like any other.
    let ownWork = finished == snapshot.id
    if !options.force && !isEmpty && !ownWork, let targetRoot {
        throw try refusal(into: targetRoot, path: targetPath, snapshot: try sink.openRecords(snapshot), scopes: options.paths)
    }
    return (targetPath, targetRoot, isEmpty)
}
