using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Btmc.Bench;

/// <summary>
/// A child process (a server, Azurite) whose stdout and stderr the shell that execs it appends to a log file, so the log
/// survives kill -9 and the processes started one after the other on one data folder append to one file. It can be
/// signalled, stopped (a signal, then kill -9 after a grace period) and killed; every wait is bounded. Children still
/// running when the bench exits (also on an exception or Ctrl+C) are killed.
/// </summary>
internal sealed class ChildProcess
{
    private static readonly ConcurrentDictionary<int, ChildProcess> Running = new();
    private readonly Process _process;

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private ChildProcess(Process process, string logPath)
    {
        _process = process;
        LogPath = logPath;
        Id = process.Id;
    }

    public int Id { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, its output appended to <paramref name="logPath"/>.</summary>
    public static ChildProcess Start(string fileName, IReadOnlyList<string> arguments, string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        File.AppendAllText(logPath, $"--- {DateTimeOffset.UtcNow:O} bench starts: {fileName} {string.Join(' ', arguments)}{Environment.NewLine}");
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the process id is the program's own, so signals and kill -9 reach it and not a shell around it.
        foreach (var arg in (string[])["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1", "sh", logPath, fileName, .. arguments])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        var child = new ChildProcess(process, logPath);
        Running[child.Id] = child;
        return child;
    }

    /// <summary>Waits until the process has exited, at most <paramref name="timeout"/>; true when it has.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            Running.TryRemove(Id, out _);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>kill -9 (SIGKILL, with its child processes), then waits (at most 10 s) until it is gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (INT, TERM), waits at most <paramref name="grace"/> for the process to exit, and
    /// kills it with kill -9 when it has not. True when it exited on its own.
    /// </summary>
    public async Task<bool> StopAsync(string signal, TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        var kill = new ProcessStartInfo("kill") { UseShellExecute = false, ArgumentList = { "-s", signal, Id.ToString(CultureInfo.InvariantCulture) } };
        using (var sender = Process.Start(kill))
        {
            if (sender is not null)
            {
                await sender.WaitForExitAsync();
            }
        }

        if (await WaitForExitAsync(grace))
        {
            return true;
        }

        await KillAsync();
        return false;
    }

    /// <summary>The last line of the log that contains <paramref name="text"/>, trimmed, or null.</summary>
    public string? LastLogLineWith(string text)
    {
        try
        {
            return File.ReadLines(LogPath).LastOrDefault(l => l.Contains(text, StringComparison.OrdinalIgnoreCase))?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void KillAll()
    {
        foreach (var child in Running.Values)
        {
            try
            {
                if (!child._process.HasExited)
                {
                    child._process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }
    }
}
