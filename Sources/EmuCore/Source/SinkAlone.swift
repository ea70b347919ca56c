import EmuPOSIX
import EmuRecords

extension Source {
    /// A sink named by its path (or `PATH:REF`) where no source is: what an
    /// administrator runs on the server (`emu prune /srv/emu/laptop`, `emu
    /// log /srv/emu/laptop`), the sink's own retention and records being all
    /// these commands need. Nil when no argument is a sink's directory.
    public static func alone(sinkIn arguments: [String]) throws -> Source? {
        for argument in arguments where argument.hasPrefix("/") || argument.hasPrefix(".") {
            let path = argument.split(separator: ":", maxSplits: 1).first.map(String.init) ?? argument
            guard let resolved = resolvedPath(path), isDirectory(resolved + "/.emu/nodes") else { continue }
            let source = try Source(path: resolved, sinkMetadata: resolved + "/" + metadataName)
            source.sinkAlone = SinkRegistration(name: path, path: resolved)
            return source
        }
        return nil
    }

    /// Refuses what needs a source's settings when only a sink is named.
    package func requireSource() throws {
        guard let sinkAlone else { return }
        throw EmuError.usage("no emu source here: \(sinkAlone.path) is named as a sink alone, which this needs a source for",
                             fix: "run it inside the source (or pass -S DIR); on the server, log, show, verify, prune, squash and clean take a sink's path")
    }
}
