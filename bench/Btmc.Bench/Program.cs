using System.CommandLine;
using System.CommandLine.Invocation;
using Btmc.Bench;

// Server settings follow a second "--" (README: -- --Supply:SealMaxEvents 5000) and go to the server as they are. They
// are cut off before parsing rather than declared as an argument: System.CommandLine would bind to that argument every
// stray word before the "--" too, so a mistyped option (--secnds 5) would reach the server instead of being refused.
var cut = Array.IndexOf(args, "--");
string[] serverSettings = cut >= 0 ? args[(cut + 1)..] : [];

// Without a command the capture benchmark runs, so the root command has its options too (README: -- --seconds 30 ...).
var root = CaptureBenchmark.Configure(
    new RootCommand("BTMC benchmarks; without a command, the capture benchmark. Server settings can follow a second --, e.g. -- --Supply:SealMaxEvents 5000 (capture and soak)."),
    serverSettings);
root.Subcommands.Add(CaptureBenchmark.Configure(
    new Command("capture", "Capture benchmark: events/s accepted and sealed, capture and accept-to-sealed latency, server peak RSS, over loopback HTTP against a server process it starts"),
    serverSettings));
root.Subcommands.Add(TraceBenchmark.CreateCommand(serverSettings));
root.Subcommands.Add(QueryBenchmark.CreateCommand(serverSettings));
root.Subcommands.Add(AuditBenchmark.CreateCommand(serverSettings));
root.Subcommands.Add(WorkerBenchmark.CreateCommand(serverSettings));
root.Subcommands.Add(SoakCommand.CreateCommand(serverSettings));
root.Subcommands.Add(TradeBenchmark.CreateCommand(serverSettings));

var parsed = root.Parse(cut >= 0 ? args[..cut] : args);
if (parsed.Action is ParseErrorAction)
{
    // It prints the errors and help, and answers 1, which here means a failed run: a usage error is 2.
    parsed.Invoke();
    return 2;
}

// No termination handling by System.CommandLine: it would take SIGINT and SIGTERM over and return 130 or 143 two seconds
// later, before the soak (which handles Ctrl+C itself) had stopped what it started; the benchmarks end at once as before.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
