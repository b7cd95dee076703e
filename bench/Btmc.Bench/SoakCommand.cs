using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Btmc.Bench;

/// <summary>The soak's settings: how long, how many clients and events per document, the seed, the pace (events/s, 0 unpaced), the fault kinds (null: all), the settling limit.</summary>
internal sealed record SoakOptions(TimeSpan Duration, int Clients, int Events, int Seed, int Rate, FaultKind[]? Only, TimeSpan SettleLimit);

/// <summary>
/// <c>soak</c> (<see cref="CreateCommand"/> has its options): capture load for N minutes against a server process it
/// starts (SQLite tables in its data folder, or with --azurite on an Azurite it starts), with faults injected on a
/// schedule (<see cref="Faults"/>), then checks that nothing acknowledged was lost: waits (bounded) until the ledger
/// settles, reads every block of every supply chain and requires every acknowledged event sealed exactly once, no event
/// sealed twice, <c>/api/ledger/verify</c> valid and no unexpected answer. Exit code 0 when all hold, 1 otherwise, 2 for
/// a usage error. Everything it started is stopped on exit; its folder (data, logs) is deleted after a pass unless
/// --keep, and kept after a failure. (--seconds N instead of --minutes gives a shorter soak for trying it out.) The load
/// runs as fast as the server takes it, except on Azurite, where it is paced so that the whole soak stays within what
/// Azurite can hold (<see cref="AzuriteProcess.EventCapacity"/>); --rate sets the pace (0: unpaced).
/// </summary>
public static class SoakCommand
{
    /// <summary>The "soak" command: its options, and <paramref name="serverSettings"/> (the words after "--") for the server.</summary>
    public static Command CreateCommand(string[] serverSettings)
    {
        var minutes = BenchOptions.Int("--minutes", "Minutes of load", 5, min: 1);
        var seconds = BenchOptions.OptionalInt("--seconds", "Seconds of load instead of --minutes, for a short soak to try it out", min: 1);
        // Faults use client numbers 997 and 998 for their own documents (DocumentTemplate keeps three digits).
        var clients = BenchOptions.Int("--clients", "Concurrent loopback clients", 4, min: 1, max: 900);
        var events = BenchOptions.Int("--events", "Events per captured document", 100, min: 1);
        var seed = new Option<int?>("--seed") { Description = "Seed of the fault schedule [default: a random one, printed]", HelpName = "n" };
        var rate = BenchOptions.OptionalInt(
            "--rate",
            $"Events/s the load is paced at, 0 unpaced [default: unpaced; with --azurite the lower of 500 and {AzuriteProcess.EventCapacity:N0} events spread over the soak]",
            min: 0);
        var names = string.Join(", ", Enum.GetValues<FaultKind>().Select(Faults.Name));
        var faults = new Option<FaultKind[]>("--faults")
        {
            Description = $"The fault kinds to inject, comma-separated: {names} [default: all; azurite-restart with --azurite only]",
            HelpName = "kind,...",
            // A custom parser, not AcceptOnlyFromAmong: that checks whole tokens, and the kinds come as one comma-separated token.
            CustomParser = result =>
            {
                var byName = Enum.GetValues<FaultKind>().ToDictionary(Faults.Name);
                var kinds = new List<FaultKind>();
                foreach (var name in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                {
                    if (!byName.TryGetValue(name, out var kind))
                    {
                        result.AddError($"--faults takes a comma-separated list of {names}, not {name}");
                        return null;
                    }

                    kinds.Add(kind);
                }

                return [.. kinds];
            },
        };
        var settleSeconds = BenchOptions.Int("--settle-seconds", "The longest wait, after the load, until nothing is pending and the sealed total stays put", 300, min: 1);
        var keep = new Option<bool>("--keep") { Description = "Keep the soak's folder (data, logs) after a pass" };
        var azurite = new Option<bool>("--azurite") { Description = "Put the tables on an Azurite the soak starts (./test.sh installs Azurite)" };
        var command = new Command("soak", "Capture load against a server process with faults injected on a schedule, then a check that nothing acknowledged was lost or sealed twice")
        {
            minutes,
            seconds,
            clients,
            events,
            seed,
            rate,
            faults,
            settleSeconds,
            keep,
            azurite,
        };
        command.SetAction(parsed =>
        {
            var duration = TimeSpan.FromSeconds(parsed.GetValue(seconds) ?? parsed.GetValue(minutes) * 60);
            var onAzurite = parsed.GetValue(azurite);
            var options = new SoakOptions(
                duration,
                parsed.GetValue(clients),
                parsed.GetValue(events),
                parsed.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                parsed.GetValue(rate) ?? (onAzurite ? (int)Math.Min(500, AzuriteProcess.EventCapacity / duration.TotalSeconds) : 0),
                // Null (all kinds) when --faults is not given: GetValue would give an empty array, which injects none.
                parsed.GetResult(faults) is null ? null : parsed.GetValue(faults),
                TimeSpan.FromSeconds(parsed.GetValue(settleSeconds)));
            return RunAsync(options, onAzurite, parsed.GetValue(keep), serverSettings);
        });
        return command;
    }

    private static async Task<int> RunAsync(SoakOptions options, bool azurite, bool keep, string[] serverSettings)
    {
        string? azuriteExecutable = null;
        if (azurite && (azuriteExecutable = AzuriteProcess.FindExecutable()) is null)
        {
            Console.Error.WriteLine($"soak: {AzuriteProcess.NotInstalled}");
            return 2;
        }

        var root = Directory.CreateTempSubdirectory("btmc-soak-").FullName;
        using var abort = new CancellationTokenSource();
        ConsoleCancelEventHandler interrupt = (_, e) =>
        {
            e.Cancel = true;
            abort.Cancel();
        };
        Console.CancelKeyPress += interrupt;
        SoakEnvironment? environment = null;
        var passed = false;
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: {options.Duration.TotalMinutes:0.##} min, {options.Clients} clients, {options.Events} events per document, seed {options.Seed}; folder {root}"));
            environment = await SoakEnvironment.StartAsync(root, azuriteExecutable, serverSettings);
            Console.WriteLine($"server pid {environment.Server.Id} on 127.0.0.1:{environment.Port}, data {environment.ServerData}, {environment.Tables}");
            Console.WriteLine($"server log {environment.Server.LogPath}");
            passed = await SoakAsync(environment, options, abort.Token);
            return passed ? 0 : 1;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
        {
            Console.WriteLine($"soak: FAILED: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= interrupt;
            if (environment is not null)
            {
                await environment.DisposeAsync();
            }

            if (passed && !keep)
            {
                Directory.Delete(root, recursive: true);
                Console.WriteLine($"removed {root}");
            }
            else
            {
                Console.WriteLine($"kept {root}; logs:");
                foreach (var log in Directory.EnumerateFiles(root, "*.log", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    Console.WriteLine($"  {log}");
                }
            }
        }
    }

    private static async Task<bool> SoakAsync(SoakEnvironment environment, SoakOptions options, CancellationToken abort)
    {
        var clock = new Stopwatch();
        var load = new SoakLoad(environment.Server.BaseAddress, clock, options.Clients * 2);
        load.Authenticate(environment.Server.ReadApiKey());
        var template = new DocumentTemplate(options.Events);
        var faults = new Faults(environment, load, template, new Random(options.Seed), options.Only);
        var monitor = new LedgerMonitor();
        using var checks = new HttpClient { BaseAddress = environment.Server.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var pace = options.Rate > 0
            ? $"paced at {options.Rate:N0} events/s{(environment.Azurite is null ? string.Empty : $" (Azurite holds about {AzuriteProcess.EventCapacity:N0} events; --rate sets another pace)")}"
            : "as fast as the server takes it";
        Console.WriteLine($"load for {options.Duration.TotalSeconds:F0} s, {pace}; faults: {string.Join(", ", faults.Kinds.Select(Faults.Name))}");
        clock.Start();
        stopLoad.CancelAfter(options.Duration);
        var monitoring = monitor.RunAsync(checks, () => load.Now, stopLoad.Token);
        var injecting = faults.RunAsync(options.Duration, abort);
        await load.RunAsync(options.Clients, template, options.Rate, stopLoad.Token);
        var loadSeconds = load.Now;
        await injecting;
        await monitoring;
        if (abort.IsCancellationRequested)
        {
            Console.WriteLine("soak: interrupted");
            return false;
        }

        var reasons = new List<string>();

        // The server should be running (a fault that killed it started it again): one that exited on its own is a finding.
        if (environment.Server.Child.HasExited)
        {
            var exited = $"the server (pid {environment.Server.Id}) exited on its own with code {environment.Server.Child.ExitCode}";
            reasons.Add(exited);
            Console.WriteLine($"soak: {exited}; starting it again for the checks");
            await environment.RestartServerAsync();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load stopped at t={loadSeconds:F1} s; waiting (at most {options.SettleLimit.TotalSeconds:F0} s) until nothing is pending and the sealed total stays put"));
        var settle = await SoakCheck.SettleAsync(checks, options.SettleLimit, monitor, () => load.Now, () => environment.Azurite?.ExitedOnItsOwn());
        if (environment.Azurite?.ExitedOnItsOwn() is { } azuriteExited)
        {
            reasons.Add(azuriteExited);
        }
        else if (!settle.Settled)
        {
            reasons.Add("the ledger did not settle");
        }

        SealedEvents? sealedEvents = null;
        List<KeyValuePair<string, Acknowledgement>> missing = [];
        List<KeyValuePair<string, int>> duplicates = [];
        var examples = new List<string>();
        var verify = "not run";
        try
        {
            sealedEvents = await SoakCheck.ReadSealedAsync(checks, () => environment.Azurite?.ExitedOnItsOwn());
            missing = [.. load.Acknowledged.Where(a => !sealedEvents.Counts.ContainsKey(a.Key)).OrderBy(a => a.Value.At)];
            duplicates = [.. sealedEvents.Counts.Where(c => c.Value > 1)];
            foreach (var (id, ack) in missing.Take(5))
            {
                var receipt = await LedgerClient.DescribeReceiptAsync(checks, id);
                examples.Add(string.Create(CultureInfo.InvariantCulture, $"{id} (acknowledged at t={ack.At:F1} s by capture {ack.CaptureId}, {ack.Source}): receipt {receipt}"));
            }

            var (valid, verifyBody) = await LedgerClient.VerifyAsync(checks);
            verify = valid ? "valid" : $"INVALID: {(verifyBody.Length > 600 ? verifyBody[..600] + "..." : verifyBody)}";
            if (!valid)
            {
                reasons.Add("verify invalid");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException or InvalidOperationException or IOException or System.Text.Json.JsonException)
        {
            reasons.Add($"the ledger could not be read to the end: {e.Message}");
        }

        if (missing.Count > 0)
        {
            reasons.Add($"{missing.Count:N0} acknowledged events missing");
        }

        if (duplicates.Count > 0)
        {
            reasons.Add($"{duplicates.Count:N0} events sealed more than once");
        }

        if (load.Unexpected > 0)
        {
            reasons.Add($"{load.Unexpected:N0} unexpected answers");
        }

        var failedFaults = faults.Injected.Count(f => f.Failed);
        if (failedFaults > 0)
        {
            reasons.Add($"{failedFaults} faults went wrong");
        }

        var acknowledged = load.Acknowledged.Count;
        var bySource = load.Acknowledged.Values.GroupBy(a => a.Source).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count():N0}");
        var byKind = faults.Injected.GroupBy(f => f.Kind).Select(g => $"{Faults.Name(g.Key)} {g.Count()}");
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"soak                {options.Duration.TotalMinutes:0.##} min ({loadSeconds:F1} s of load) on {environment.Tables}; {options.Clients} clients, {options.Events} events per document, {(options.Rate > 0 ? $"paced at {options.Rate:N0} events/s" : "unpaced")}, seed {options.Seed}");
        report.AppendLine(CultureInfo.InvariantCulture, $"acknowledged        {load.Documents:N0} documents, {acknowledged:N0} events ({string.Join(", ", bySource)})");
        report.AppendLine(CultureInfo.InvariantCulture, $"accept rate         {acknowledged / loadSeconds:N0} events/s acknowledged");
        report.AppendLine(CultureInfo.InvariantCulture, $"faults              {faults.Injected.Count}: {string.Join(", ", byKind)} ({failedFaults} went wrong)");
        foreach (var fault in faults.Injected)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  t={fault.At,6:F1} s {Faults.Name(fault.Kind)}{(fault.Failed ? " FAILED" : string.Empty)}: {fault.What}");
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"503 answers         {load.Throttled:N0} (sent again after Retry-After)");
        report.AppendLine(CultureInfo.InvariantCulture, $"connection errors   {load.ConnectionErrors:N0} (no answer: sent again)");
        report.AppendLine(CultureInfo.InvariantCulture, $"unexpected answers  {load.Unexpected:N0}");
        foreach (var example in load.UnexpectedExamples)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  {example}");
        }

        report.AppendLine(settle.Settled
            ? string.Create(CultureInfo.InvariantCulture, $"settled             in {settle.Seconds:F1} s (pending 0, the sealed total unchanged for 10 s)")
            : string.Create(CultureInfo.InvariantCulture, $"settled             NO: after {settle.Seconds:F0} s pending {settle.Last?.Pending:N0}, sealed {settle.Last?.TotalEntries:N0}{(settle.Last is null ? string.Empty : SoakCheck.Optional(settle.Last))}"));
        report.AppendLine(sealedEvents is null
            ? "events sealed       not read"
            : string.Create(CultureInfo.InvariantCulture, $"events sealed       {sealedEvents.Entries:N0} in {sealedEvents.Blocks:N0} blocks of {sealedEvents.Chains} chains (the chains report {sealedEvents.ReportedTotal:N0}); {sealedEvents.Counts.Keys.Count(id => !load.Acknowledged.ContainsKey(id)):N0} of them never acknowledged (abandoned or cut off by the end)"));
        report.AppendLine(CultureInfo.InvariantCulture, $"missing             {(sealedEvents is null ? "unknown" : missing.Count.ToString("N0", CultureInfo.InvariantCulture))}");
        foreach (var example in examples)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  {example}");
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"duplicates          {(sealedEvents is null ? "unknown" : duplicates.Count.ToString("N0", CultureInfo.InvariantCulture))}{(duplicates.Count == 0 ? string.Empty : $" ({duplicates.Sum(d => d.Value - 1):N0} extra entries; e.g. {string.Join(", ", duplicates.Take(3).Select(d => $"{d.Key} x{d.Value}"))})")}");
        report.AppendLine(CultureInfo.InvariantCulture, $"verify              {verify}");
        report.AppendLine(CultureInfo.InvariantCulture, $"max pending seen    {monitor.MaxPending:N0} ({monitor.Samples} samples of /api/ledger/chains, {monitor.Failures} unanswered within 10 s, {monitor.StoreUnreadable} with the store unreadable, the slowest answer {monitor.SlowestAnswerMs:F0} ms)");
        report.AppendLine(CultureInfo.InvariantCulture, $"max oldest unsealed {(monitor.MaxOldestUnsealedAgeMs is { } oldest ? $"{oldest:F0} ms" : "not reported by this server")}");
        var states = monitor.SealerStates;
        report.AppendLine(CultureInfo.InvariantCulture, $"sealer states       {(states.Count == 0 ? "not reported by this server" : string.Join(", ", states.OrderByDescending(s => s.Value).Select(s => $"{s.Key} {s.Value}")))}");
        foreach (var error in monitor.SealerErrors)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  sealer error {error}");
        }

        report.Append(reasons.Count == 0 ? "result              PASS" : $"result              FAIL: {string.Join("; ", reasons)}");
        Console.WriteLine(report.ToString());
        return reasons.Count == 0;
    }
}
