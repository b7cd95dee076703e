using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Compute.Mining;

namespace Btmc.Bench;

/// <summary>
/// The compute worker's hashing throughput (docs/compute-jobs.md, "Benchmark"): <c>btmc worker hash-range</c> run as
/// the pool runs it (a real process), on one thread and on every processor, against <c>openssl speed sha256</c> on
/// 64-byte inputs on the same machine, and share validation (<see cref="ShareHash.Meets"/>) per second on one thread.
/// </summary>
/// <remarks>
/// Throughput is measured between two runs of different lengths, so a process's start-up (about 0.1 s) cancels out:
/// rate = (count₂ − count₁) / (time₂ − time₁). One worker hash is SHA-256(SHA-256(78-byte header ‖ 8-byte nonce)):
/// the 86-byte preimage pads to two 64-byte blocks and the 32-byte inner digest to one, so three SHA-256 compressions;
/// openssl's 64-byte input pads to two blocks, so two compressions per hash. Both ratios are printed: hash for hash, and
/// compressions for compressions (the first times 3/2).
/// </remarks>
public static class WorkerBenchmark
{
    private const int HeaderBytes = 78;
    private const int CompressionsPerWorkerHash = 3;
    private const int CompressionsPerOpensslHash = 2;

    /// <summary>The "worker" command: its option, refusing server settings (it starts no server).</summary>
    public static Command CreateCommand(string[] serverSettings)
    {
        var seconds = BenchOptions.Int("--seconds", "Seconds of each timed run (the worker's long runs, openssl's; share validation at most 5)", 10, min: 1);
        var command = new Command("worker", "The compute worker's hashing throughput per core against openssl speed sha256, and share validations per second")
        {
            seconds,
        };
        command.SetAction(parsed => RunAsync(parsed.GetValue(seconds)));
        return command.WithoutServerSettings(serverSettings);
    }

    private static async Task<int> RunAsync(int seconds)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "btmc.dll");
        if (!File.Exists(worker))
        {
            Console.Error.WriteLine($"bench: {worker} is missing; build the solution first.");
            return 1;
        }

        var processors = Environment.ProcessorCount;
        Console.WriteLine($"machine: {processors} processors, load average {LoadAverage()}, {RuntimeDescription()}");
        var single = await WorkerRateAsync(worker, 1, seconds);
        var all = await WorkerRateAsync(worker, processors, seconds);
        Console.WriteLine(Invariant($"btmc worker hash-range, double SHA-256 of 86 bytes, {seconds} s runs:"));
        Console.WriteLine(Invariant($"  1 thread:   {single,14:N0} hashes/s  (per core)"));
        Console.WriteLine(Invariant($"  {processors} threads: {all,14:N0} hashes/s  = {all / processors:N0} per core"));

        var openssl = await OpensslSha256Async(seconds);
        if (openssl is null)
        {
            Console.WriteLine("openssl speed sha256: openssl is not on PATH (or its output has no sha256 line); no ratio");
        }
        else
        {
            var perSecond = openssl.Value / 64;
            Console.WriteLine(Invariant($"openssl speed -seconds {seconds} -bytes 64 sha256 (1 thread): {openssl.Value / 1000:N2}k bytes/s = {perSecond:N0} hashes/s of 64 bytes"));
            var hashRatio = single / perSecond;
            var compressionRatio = hashRatio * CompressionsPerWorkerHash / CompressionsPerOpensslHash;
            Console.WriteLine(Invariant($"ratio per core, hash for hash (worker double hashes / openssl 64-byte hashes):          {hashRatio:F3}"));
            Console.WriteLine(Invariant($"ratio per core, SHA-256 compressions ({CompressionsPerWorkerHash} per worker hash / {CompressionsPerOpensslHash} per openssl hash): {compressionRatio:F3}"));
        }

        var validations = ShareValidationsPerSecond(Math.Min(seconds, 5));
        Console.WriteLine(Invariant($"share validation (ShareHash.Meets over random nonces, 1 thread): {validations:N0} shares/s"));
        return 0;
    }

    /// <summary>Hashes per second of the worker with <paramref name="threads"/> threads, start-up cancelled out.</summary>
    private static async Task<double> WorkerRateAsync(string worker, int threads, int seconds)
    {
        var header = Convert.ToHexString(RandomNumberGenerator.GetBytes(HeaderBytes));
        var shortCount = 200_000UL * (ulong)threads;
        var shortTime = await RunWorkerAsync(worker, header, shortCount, threads);
        var roughRate = shortCount / Math.Max(shortTime, 0.05);
        var longCount = (ulong)(roughRate * seconds);
        var longTime = await RunWorkerAsync(worker, header, longCount, threads);
        return longTime > shortTime && longCount > shortCount ? (longCount - shortCount) / (longTime - shortTime) : longCount / longTime;
    }

    private static async Task<double> RunWorkerAsync(string worker, string header, ulong count, int threads)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[worker, "worker", "hash-range", "--header", header, "--bits", "40", "--start", "0", "--count", Invariant($"{count}"), "--threads", Invariant($"{threads}")])
        {
            start.ArgumentList.Add(argument);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = watch.Elapsed.TotalSeconds;
        using var result = JsonDocument.Parse(process.ExitCode == 0 ? output : throw new InvalidOperationException($"btmc worker failed: {error}"));
        return result.RootElement.GetProperty("hashes").GetUInt64() == count ? elapsed : throw new InvalidOperationException("the worker did not hash the whole range");
    }

    /// <summary>Bytes per second of <c>openssl speed sha256</c> on 64-byte inputs (the "sha256" line, in 1000s of bytes).</summary>
    private static async Task<double?> OpensslSha256Async(int seconds)
    {
        try
        {
            var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["speed", "-seconds", Invariant($"{seconds}"), "-bytes", "64", "sha256"])
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            _ = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var line = Regex.Match(await output, @"^sha256\s+([0-9.]+)k\s*$", RegexOptions.Multiline);
            return line.Success ? double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture) * 1000 : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static double ShareValidationsPerSecond(int seconds)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        RandomNumberGenerator.Fill(header);
        var random = new Random(1);
        var valid = 0L;
        var count = 0L;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            for (var i = 0; i < 10_000; i++)
            {
                if (ShareHash.Meets(header, (ulong)random.NextInt64(), 24))
                {
                    valid++;
                }
            }

            count += 10_000;
        }

        GC.KeepAlive(valid);
        return count / watch.Elapsed.TotalSeconds;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string RuntimeDescription() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
