import Testing

/// All suites that start a web server, an engine and an emulator, run one test at a time:
/// side by side they would load a 2-core machine enough to upset the engine's timing tests.
@Suite("The authorisation pages over real HTTP", .serialized)
enum WebPageTests {}
