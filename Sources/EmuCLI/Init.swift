import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make SOURCE/.emu/ from templates.",
            discussion: """
                Idempotent: files that are missing are copied from the templates, present ones \
                are kept. The templates are built into emu; an installed share/emu/templates \
                (or --template-dir, or $EMU_TEMPLATE_DIR) overrides them. With -f every template file is restored to its default; registered \
                sinks are never touched.

                \(ExitStatus.help())
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Copy templates from DIR instead of emu's own.", valueName: "DIR"))
        var templateDir: String?

        @Flag(name: .shortAndLong, help: "Also replace a settings file that does not parse (config, excludes); what parses is kept.")
        var force = false

        @Flag(name: [.customShort("n"), .customShort("d"), .customLong("dry-run")], help: "Change nothing; print what would be written.")
        var dryRun = false

        func run() throws {
            let terminal = global.terminal
            let templates = try Templates.load(explicit: templateDir)
            let report = try initializeSource(at: global.sourceDirectory ?? ".", templates: templates, force: force, dryRun: dryRun)
            let why = Dictionary(report.replaced.map { ($0.path, $0.why) }) { first, _ in first }
            if dryRun {
                for file in report.written { terminal.output("would write .emu/\(file)" + (why[file].map { " (it does not parse: \($0))" } ?? "")) }
                return
            }
            for file in report.written {
                // A repair names what it changed; a first init only lists it with -v.
                if let reason = why[file] { terminal.info("replaced .emu/\(file) with its template: it did not parse (\(reason))") }
                else if report.created { terminal.detail("wrote .emu/\(file)") } else { terminal.info("restored .emu/\(file) (it was missing)") }
            }
            if report.created {
                terminal.info("Initialized emu source in \(report.path)")
            } else if report.written.isEmpty {
                terminal.info("emu source in \(report.path) is complete; nothing to do")
            } else {
                terminal.info("Repaired emu source in \(report.path) (\(plural(report.written.count, "file")) restored)")
            }
        }
    }
}
