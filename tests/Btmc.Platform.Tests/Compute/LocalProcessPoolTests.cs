using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Btmc.Platform.Compute;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.Compute;

/// <summary>
/// The local process pool with real child processes: small shell scripts stand in for <c>btmc worker</c> (the pool
/// runs whatever command a contributor's worker is), writing to a shared folder what the tests check.
/// </summary>
public sealed class LocalProcessPoolTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public LocalProcessPoolTests()
    {
        Directory.CreateDirectory(Shared);
    }

    private string Root => _directory.Combine("pool");

    private string Shared => _directory.Combine("shared");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task SubmitAsync_Tasks_RunInTheirFolderWithInputsAndKeepOutputs()
    {
        var input = _directory.Combine("input.txt");
        await File.WriteAllTextAsync(input, "hello input");
        await using var pool = Pool("""
            printf '{"args":"%s","input":"%s"}\n' "$*" "$(cat in/data.txt)"
            echo "some diagnostics" >&2
            mkdir -p out/frames && printf 'frame' > out/frames/f1.bin
            """);

        await pool.SubmitAsync("job-1", [new ComputeTask("t1", "alice", ["digest", "--x", "a b"], [new TaskInputFile("in/data.txt", input)])]);
        var status = await WaitAsync(pool, "job-1", "t1", ComputeTaskState.Completed);

        Assert.Equal(0, status.ExitCode);
        Assert.Null(status.FailureMessage);
        var result = JsonDocument.Parse(await pool.ReadTaskFileAsync("job-1", "t1", "stdout.txt") ?? []).RootElement;
        Assert.Equal("digest --x a b", result.GetProperty("args").GetString());
        Assert.Equal("hello input", result.GetProperty("input").GetString());
        Assert.Equal("some diagnostics\n", Encoding.UTF8.GetString(await pool.ReadTaskFileAsync("job-1", "t1", "stderr.txt") ?? []));
        Assert.Equal("frame", Encoding.UTF8.GetString(await pool.ReadTaskFileAsync("job-1", "t1", "out/frames/f1.bin") ?? []));
        Assert.True(File.Exists(Path.Combine(Root, "job-1", "t1", "out", "frames", "f1.bin")));
    }

    [Fact]
    public async Task ReadTaskFileAsync_OutsideOutOrThroughALink_IsNull()
    {
        await File.WriteAllTextAsync(_directory.Combine("secret.txt"), "secret");
        await using var pool = Pool($$"""
            mkdir -p out && ln -s {{_directory.Combine("secret.txt")}} out/link.txt && echo '{}'
            """);
        await pool.SubmitAsync("job-1", [new ComputeTask("t1", "alice", [], [])]);
        await WaitAsync(pool, "job-1", "t1", ComputeTaskState.Completed);

        Assert.Null(await pool.ReadTaskFileAsync("job-1", "t1", "out/link.txt"));
        Assert.Null(await pool.ReadTaskFileAsync("job-1", "t1", "out/../../../secret.txt"));
        Assert.Null(await pool.ReadTaskFileAsync("job-1", "t1", "state.json"));
        Assert.Null(await pool.ReadTaskFileAsync("job-1", "t1", "out/missing.txt"));
        Assert.Null(await pool.ReadTaskFileAsync("job-1", "t9", "stdout.txt"));
        Assert.NotNull(await pool.ReadTaskFileAsync("job-1", "t1", "stdout.txt"));
    }

    [Fact]
    public async Task SubmitAsync_FailingTaskOrMissingInput_FailsWithTheReason()
    {
        await using var pool = Pool("echo 'boom: cannot do it' >&2; exit 3");

        await pool.SubmitAsync("job-1", [
            new ComputeTask("bad", "alice", [], []),
            new ComputeTask("no-input", "alice", [], [new TaskInputFile("x.bin", _directory.Combine("missing.bin"))]),
        ]);
        var bad = await WaitAsync(pool, "job-1", "bad", ComputeTaskState.Failed);
        var noInput = await WaitAsync(pool, "job-1", "no-input", ComputeTaskState.Failed);

        Assert.Equal(3, bad.ExitCode);
        Assert.Equal("exit code 3: boom: cannot do it", bad.FailureMessage);
        Assert.Null(noInput.ExitCode);
        Assert.Contains("missing.bin does not exist", noInput.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_ContributorWithItsOwnCommand_RunsThatCommand()
    {
        var options = Options("echo '{\"worker\":\"default\"}'");
        options.ContributorCommands["mallory"] = ["/bin/sh", "-c", "echo '{\"worker\":\"mallory\"}'", "sh"];
        await using var pool = new LocalProcessPool(options);

        await pool.SubmitAsync("job-1", [new ComputeTask("a", "alice", [], []), new ComputeTask("m", "mallory", [], [])]);
        await WaitAsync(pool, "job-1", "a", ComputeTaskState.Completed);
        await WaitAsync(pool, "job-1", "m", ComputeTaskState.Completed);

        Assert.Contains("default", Encoding.UTF8.GetString(await pool.ReadTaskFileAsync("job-1", "a", "stdout.txt") ?? []), StringComparison.Ordinal);
        Assert.Contains("mallory", Encoding.UTF8.GetString(await pool.ReadTaskFileAsync("job-1", "m", "stdout.txt") ?? []), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_SameTaskTwice_RunsItOnce()
    {
        await using var pool = Pool($"echo run >> {Shared}/runs.log; echo '{{}}'");
        var task = new ComputeTask("t1", "alice", [], []);

        await pool.SubmitAsync("job-1", [task]);
        await pool.SubmitAsync("job-1", [task, task]);
        await WaitAsync(pool, "job-1", "t1", ComputeTaskState.Completed);
        await pool.SubmitAsync("job-1", [task]);
        await Task.Delay(300);

        Assert.Single(await pool.GetTasksAsync("job-1"));
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(Shared, "runs.log")));
    }

    [Fact]
    public async Task SubmitAsync_MoreTasksThanTheLimit_RunsAtMostTheLimitAtOnce()
    {
        // Each task registers itself in running/, counts who is there, stays a while, and leaves.
        var options = Options($$$"""
            mkdir -p {{{Shared}}}/running && touch {{{Shared}}}/running/$$
            ls {{{Shared}}}/running | wc -l >> {{{Shared}}}/counts
            sleep 0.4
            rm {{{Shared}}}/running/$$
            echo '{}'
            """);
        options.MaxParallelTasks = 2;
        await using var pool = new LocalProcessPool(options);

        await pool.SubmitAsync("job-1", [.. Enumerable.Range(0, 6).Select(i => new ComputeTask($"t{i}", "alice", [], []))]);
        for (var i = 0; i < 6; i++)
        {
            await WaitAsync(pool, "job-1", $"t{i}", ComputeTaskState.Completed);
        }

        var counts = (await File.ReadAllLinesAsync(Path.Combine(Shared, "counts"))).Select(l => int.Parse(l.Trim())).ToList();
        Assert.Equal(6, counts.Count);
        Assert.Equal(2, counts.Max());
    }

    [Fact]
    public async Task NewPool_AfterTheOldOneStopped_KeepsFinishedTasksAndRunsInterruptedOnesAgain()
    {
        // "quick" finishes at once; "slow" waits for a go file, so it is running when the first pool stops.
        var script = $$"""
            echo "$1" >> {{Shared}}/$1.log
            if [ "$1" = slow ]; then while [ ! -f {{Shared}}/go ]; do sleep 0.05; done; fi
            echo '{"task":"'$1'"}'
            """;
        var first = Pool(script);
        await first.SubmitAsync("job-1", [new ComputeTask("quick", "alice", ["quick"], []), new ComputeTask("slow", "bob", ["slow"], [])]);
        await WaitAsync(first, "job-1", "quick", ComputeTaskState.Completed);
        await WaitAsync(first, "job-1", "slow", ComputeTaskState.Running);
        await WaitUntilAsync(() => File.Exists(Path.Combine(Shared, "slow.log")));
        await first.DisposeAsync();
        File.WriteAllText(Path.Combine(Shared, "go"), "go");

        await using var second = Pool(script);
        var slow = await WaitAsync(second, "job-1", "slow", ComputeTaskState.Completed);

        Assert.Equal(0, slow.ExitCode);
        Assert.Equal(ComputeTaskState.Completed, (await second.GetTasksAsync("job-1")).Single(t => t.Id == "quick").State);
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(Shared, "quick.log")));
        Assert.Equal(2, (await File.ReadAllLinesAsync(Path.Combine(Shared, "slow.log"))).Length);
        Assert.Contains("slow", Encoding.UTF8.GetString(await second.ReadTaskFileAsync("job-1", "slow", "stdout.txt") ?? []), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewPool_TaskRunningWhenItsServerDied_KillsTheLeftoverProcessAndRunsAgain()
    {
        // The state a killed server leaves: a task "running", its process still alive.
        using var leftover = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false }) ?? throw new InvalidOperationException("sleep did not start");
        var task = Directory.CreateDirectory(Path.Combine(Root, "job-1", "t1")).FullName;
        var spec = new { task = new ComputeTask("t1", "alice", [], []), sequence = 0 };
        File.WriteAllText(Path.Combine(task, "task.json"), JsonSerializer.Serialize(spec, JsonSerializerOptions.Web));
        File.WriteAllText(Path.Combine(task, "state.json"), JsonSerializer.Serialize(
            new { state = "Running", processId = leftover.Id, processStartTicks = leftover.StartTime.ToUniversalTime().Ticks }, JsonSerializerOptions.Web));

        await using var pool = Pool("echo '{\"again\":true}'");
        var status = await WaitAsync(pool, "job-1", "t1", ComputeTaskState.Completed);

        Assert.True(leftover.WaitForExit(TimeSpan.FromSeconds(10)), "the leftover process was not killed");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("again", Encoding.UTF8.GetString(await pool.ReadTaskFileAsync("job-1", "t1", "stdout.txt") ?? []), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewPool_TornFilesOfACrashedMachine_RunsTheTaskAgainAndSkipsTheUnreadableSpec()
    {
        var torn = Directory.CreateDirectory(Path.Combine(Root, "job-1", "t1")).FullName;
        File.WriteAllText(Path.Combine(torn, "task.json"), JsonSerializer.Serialize(new { task = new ComputeTask("t1", "alice", [], []), sequence = 0 }, JsonSerializerOptions.Web));
        File.WriteAllText(Path.Combine(torn, "state.json"), "{\"state\":\"Compl");
        var unreadable = Directory.CreateDirectory(Path.Combine(Root, "job-1", "t2")).FullName;
        File.WriteAllText(Path.Combine(unreadable, "task.json"), "");

        await using var pool = Pool("echo '{}'");
        await WaitAsync(pool, "job-1", "t1", ComputeTaskState.Completed);

        Assert.DoesNotContain(await pool.GetTasksAsync("job-1"), t => t.Id == "t2");
        await pool.SubmitAsync("job-1", [new ComputeTask("t2", "alice", [], [])]);
        await WaitAsync(pool, "job-1", "t2", ComputeTaskState.Completed);
    }

    [Fact]
    public async Task TerminateAsync_RunningAndPendingTasks_KillsAndFailsThem()
    {
        var options = Options($"echo $$ > {Shared}/$1.pid; exec sleep 120");
        options.MaxParallelTasks = 1;
        await using var pool = new LocalProcessPool(options);
        await pool.SubmitAsync("job-1", [new ComputeTask("running", "alice", ["running"], []), new ComputeTask("pending", "alice", ["pending"], [])]);
        await WaitAsync(pool, "job-1", "running", ComputeTaskState.Running);
        var pidFile = Path.Combine(Shared, "running.pid");
        await WaitUntilAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0);
        using var process = Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim()));

        await pool.TerminateAsync("job-1");

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "the running task's process is still alive");
        var statuses = await pool.GetTasksAsync("job-1");
        Assert.All(statuses, s => Assert.Equal(ComputeTaskState.Failed, s.State));
        Assert.All(statuses, s => Assert.Equal(LocalProcessPool.TerminatedMessage, s.FailureMessage));
        Assert.False(File.Exists(Path.Combine(Shared, "pending.pid")));
        await pool.SubmitAsync("job-1", [new ComputeTask("later", "alice", ["later"], [])]);
        Assert.Equal(ComputeTaskState.Failed, (await pool.GetTasksAsync("job-1")).Single(t => t.Id == "later").State);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task SubmitAsync_BadTaskId_Throws(string id)
    {
        await using var pool = Pool("echo '{}'");

        await Assert.ThrowsAsync<ArgumentException>(() => pool.SubmitAsync("job-1", [new ComputeTask(id, "alice", [], [])]));
    }

    private LocalProcessPoolOptions Options(string script) => new()
    {
        Root = Root,
        MaxParallelTasks = 4,
        WorkerCommand = ["/bin/sh", "-c", script, "sh"],
    };

    private LocalProcessPool Pool(string script) => new(Options(script));

    private static async Task<ComputeTaskStatus> WaitAsync(LocalProcessPool pool, string jobId, string taskId, ComputeTaskState state)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var status = (await pool.GetTasksAsync(jobId)).SingleOrDefault(t => t.Id == taskId);
            if (status?.State == state)
            {
                return status;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"task {taskId} is {status?.State.ToString() ?? "unknown"}, not {state}: {status?.FailureMessage}");
            await Task.Delay(20);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out");
            await Task.Delay(20);
        }
    }
}
