using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Btmc.Platform.Compute;

/// <summary>
/// The embedded compute pool (docs/compute-jobs.md, "The local pool"): each task is a real child process, its
/// contributor's worker command followed by the task's worker arguments, run in <c>&lt;root&gt;/&lt;job&gt;/&lt;task&gt;/</c>
/// with its input files copied in, its standard output and error in <c>stdout.txt</c> and <c>stderr.txt</c>, and what
/// it writes under <c>out/</c>; at most <see cref="LocalProcessPoolOptions.MaxParallelTasks"/> at once, in submission order.
/// </summary>
/// <remarks>
/// State is kept on disk beside each task (<c>task.json</c>: what to run; <c>state.json</c>: where it stands, written
/// atomically, and flushed once the task runs), so a new pool over the same folder carries on: a finished task stays finished, and one that was running
/// when the previous pool stopped or its process died is run again from a clean folder (a leftover process of it, found
/// by its recorded process id and start time, is killed first).
/// </remarks>
public sealed class LocalProcessPool : IComputePool, IAsyncDisposable
{
    private const string StdoutFile = ComputeTaskFiles.Stdout;
    private const string StderrFile = ComputeTaskFiles.Stderr;
    private const string OutFolder = ComputeTaskFiles.OutFolder;

    /// <summary>The failure message of a task ended by <see cref="TerminateAsync"/>.</summary>
    public const string TerminatedMessage = "terminated: the job was ended";

    private const string SpecFile = "task.json";
    private const string StateFile = "state.json";
    private const string TerminatedMarker = "terminated";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly LocalProcessPoolOptions _options;
    private readonly string _root;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PoolJob> _jobs = new(StringComparer.Ordinal);
    private readonly Channel<PoolTask> _queue = Channel.CreateUnbounded<PoolTask>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _runners;
    private readonly TimeProvider _time;
    private long _nextSequence;

    /// <summary>Opens the pool over <see cref="LocalProcessPoolOptions.Root"/> (created when missing), takes up the
    /// tasks an earlier pool left there, and starts running.</summary>
    /// <exception cref="ArgumentException">The options are incomplete (see <see cref="LocalProcessPoolOptions.Validate"/>).</exception>
    /// <param name="options">Where the pool keeps its tasks, how many run at once, and the worker command.</param>
    /// <param name="time">The clock the pool reads (when a job was ended); the system clock when null.</param>
    public LocalProcessPool(LocalProcessPoolOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? TimeProvider.System;
        options.Validate();
        _options = options;
        _root = Path.GetFullPath(options.Root);
        Directory.CreateDirectory(_root);
        foreach (var pending in Recover().OrderBy(t => t.Sequence))
        {
            _queue.Writer.TryWrite(pending);
        }

        _runners = [.. Enumerable.Range(0, options.MaxParallelTasks).Select(_ => Task.Run(RunQueueAsync))];
    }

    /// <summary>The pool's folder.</summary>
    public string Root => _root;

    /// <summary>Tasks running at once, at most.</summary>
    public int MaxParallelTasks => _options.MaxParallelTasks;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An id is not 1..64 letters, digits, '-' and '_', a task has no contributor, or
    /// an input file name is not a relative path inside the task's folder.</exception>
    public Task SubmitAsync(string jobId, IReadOnlyList<ComputeTask> tasks, CancellationToken cancellationToken = default)
    {
        CheckId(jobId, nameof(jobId));
        ArgumentNullException.ThrowIfNull(tasks);
        foreach (var task in tasks)
        {
            CheckId(task.Id, nameof(tasks));
            ArgumentException.ThrowIfNullOrEmpty(task.Contributor, nameof(tasks));
            foreach (var input in task.InputFiles)
            {
                CheckRelativePath(input.FileName, nameof(tasks));
            }
        }

        var queued = new List<PoolTask>();
        lock (_gate)
        {
            var job = OpenJob(jobId);

            foreach (var spec in tasks)
            {
                if (job.Tasks.ContainsKey(spec.Id))
                {
                    continue;
                }

                var task = new PoolTask(spec, _nextSequence++, Path.Combine(job.Directory, spec.Id));
                Directory.CreateDirectory(task.Directory);

                // Not flushed: a submission lost with the machine is submitted again by its job's next advance.
                AtomicFile.Write(Path.Combine(task.Directory, SpecFile), JsonSerializer.Serialize(new StoredSpec(spec, task.Sequence), Json), flushToDisk: false);
                if (job.Terminated)
                {
                    task.State = ComputeTaskState.Failed;
                    task.FailureMessage = TerminatedMessage;
                }

                Persist(task, flushToDisk: false);
                job.Tasks.Add(spec.Id, task);
                if (task.State == ComputeTaskState.Pending)
                {
                    queued.Add(task);
                }
            }
        }

        foreach (var task in queued)
        {
            _queue.Writer.TryWrite(task);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ComputeTaskStatus>> GetTasksAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CheckId(jobId, nameof(jobId));
        lock (_gate)
        {
            IReadOnlyList<ComputeTaskStatus> statuses = _jobs.TryGetValue(jobId, out var job)
                ? [.. job.Tasks.Values.OrderBy(t => t.Sequence).Select(t => t.Status)]
                : [];
            return Task.FromResult(statuses);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Only <c>stdout.txt</c>, <c>stderr.txt</c> and regular files under <c>out/</c> (not through a symbolic
    /// link) are readable; any other path, like an unknown task, is null.</remarks>
    public async Task<byte[]?> ReadTaskFileAsync(string jobId, string taskId, string path, CancellationToken cancellationToken = default)
    {
        CheckId(jobId, nameof(jobId));
        CheckId(taskId, nameof(taskId));
        ArgumentNullException.ThrowIfNull(path);
        string directory;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job) || !job.Tasks.TryGetValue(taskId, out var task))
            {
                return null;
            }

            directory = task.Directory;
        }

        var file = ReadablePath(directory, path);
        if (file is null)
        {
            return null;
        }

        try
        {
            return await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Pending tasks fail without running; running ones are killed with their child processes, and this
    /// returns once they are gone. Tasks submitted later fail too.</remarks>
    public async Task TerminateAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CheckId(jobId, nameof(jobId));
        var running = new List<PoolTask>();
        lock (_gate)
        {
            var job = OpenJob(jobId);

            if (!job.Terminated)
            {
                job.Terminated = true;
                AtomicFile.Write(Path.Combine(job.Directory, TerminatedMarker), _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            }

            foreach (var task in job.Tasks.Values)
            {
                if (task.State == ComputeTaskState.Pending)
                {
                    task.State = ComputeTaskState.Failed;
                    task.FailureMessage = TerminatedMessage;
                    Persist(task);
                }
                else if (task.State == ComputeTaskState.Running)
                {
                    task.TerminateRequested = true;
                    running.Add(task);
                }
            }
        }

        foreach (var task in running)
        {
            // Cancelled outside the lock: the run's continuation takes it to record the outcome.
            task.Cancel();
        }

        await Task.WhenAll(running.Select(t => t.Finished)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the pool: running tasks are killed and stay "running" on disk, so that the next pool over the
    /// folder runs them again; nothing else changes.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _queue.Writer.TryComplete();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_runners).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunQueueAsync()
    {
        try
        {
            await foreach (var task in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                await RunAsync(task).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The pool is stopping.
        }
    }

    private async Task RunAsync(PoolTask task)
    {
        CancellationTokenSource run;
        lock (_gate)
        {
            if (task.State != ComputeTaskState.Pending || _stopping.IsCancellationRequested)
            {
                return;
            }

            run = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            task.Start(run);
            Persist(task);
        }

        (ComputeTaskState State, int? ExitCode, string? Message) outcome;
        try
        {
            outcome = await ExecuteAsync(task, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            outcome = (ComputeTaskState.Failed, null, TerminatedMessage);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            outcome = (ComputeTaskState.Failed, null, $"the pool could not run the task: {ex.Message}");
        }

        lock (_gate)
        {
            // A stopping pool leaves the task "running" on disk: the next pool runs it again.
            if (!_stopping.IsCancellationRequested || task.TerminateRequested)
            {
                task.State = task.TerminateRequested ? ComputeTaskState.Failed : outcome.State;
                task.ExitCode = task.TerminateRequested ? null : outcome.ExitCode;
                task.FailureMessage = task.TerminateRequested ? TerminatedMessage : outcome.Message;
                task.ProcessId = null;
                task.ProcessStartTicks = null;
                Persist(task);
            }

            task.End();
        }

        run.Dispose();
    }

    private async Task<(ComputeTaskState State, int? ExitCode, string? Message)> ExecuteAsync(PoolTask task, CancellationToken cancellationToken)
    {
        // A clean start: whatever an interrupted run left goes.
        var outFolder = Path.Combine(task.Directory, OutFolder);
        if (Directory.Exists(outFolder))
        {
            Directory.Delete(outFolder, recursive: true);
        }

        Directory.CreateDirectory(outFolder);
        foreach (var input in task.Spec.InputFiles)
        {
            if (CopyInput(input, task.Directory) is { } problem)
            {
                await File.WriteAllTextAsync(Path.Combine(task.Directory, StderrFile), problem + "\n", cancellationToken).ConfigureAwait(false);
                return (ComputeTaskState.Failed, null, problem);
            }
        }

        var command = _options.CommandFor(task.Spec.Contributor);
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = task.Directory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1).Concat(task.Spec.WorkerArguments))
        {
            start.ArgumentList.Add(argument);
        }

        var stdout = new FileStream(Path.Combine(task.Directory, StdoutFile), FileMode.Create, FileAccess.Write, FileShare.Read);
        await using var disposeStdout = stdout.ConfigureAwait(false);
        var stderr = new FileStream(Path.Combine(task.Directory, StderrFile), FileMode.Create, FileAccess.Write, FileShare.Read);
        await using var disposeStderr = stderr.ConfigureAwait(false);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"{command[0]} did not start");
        }
        catch (Win32Exception ex)
        {
            var problem = $"cannot start the worker command {command[0]}: {ex.Message}";
            await stderr.WriteAsync(Encoding.UTF8.GetBytes(problem + "\n"), cancellationToken).ConfigureAwait(false);
            return (ComputeTaskState.Failed, null, problem);
        }

        using (process)
        {
            process.StandardInput.Close();
            lock (_gate)
            {
                task.ProcessId = process.Id;
                task.ProcessStartTicks = StartTicksOf(process);
                Persist(task);
            }

            // The pipes close when the process and any child holding them end.
            var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout, CancellationToken.None);
            var copyErr = process.StandardError.BaseStream.CopyToAsync(stderr, CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.WhenAll(copyOut, copyErr).ConfigureAwait(false);
                throw;
            }

            await Task.WhenAll(copyOut, copyErr).ConfigureAwait(false);
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await stderr.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var exitCode = process.ExitCode;
            if (exitCode == 0)
            {
                return (ComputeTaskState.Completed, 0, null);
            }

            stderr.Close();
            var reason = LastLine(Path.Combine(task.Directory, StderrFile));
            return (ComputeTaskState.Failed, exitCode, $"exit code {exitCode}{(reason is null ? string.Empty : ": " + reason)}");
        }
    }

    /// <summary>Copies one input file into the task's folder; the reason when it cannot.</summary>
    private static string? CopyInput(TaskInputFile input, string taskDirectory)
    {
        string source;
        if (Uri.TryCreate(input.Source, UriKind.Absolute, out var uri) && uri.IsFile)
        {
            source = uri.LocalPath;
        }
        else if (Path.IsPathFullyQualified(input.Source))
        {
            source = input.Source;
        }
        else
        {
            return $"input file {input.FileName}: the local pool reads local files (an absolute path or a file:// URI), not {input.Source}";
        }

        if (!File.Exists(source))
        {
            return $"input file {input.FileName}: {source} does not exist";
        }

        var target = Path.Combine(taskDirectory, input.FileName);
        Directory.CreateDirectory(Path.GetDirectoryName(target) ?? taskDirectory);
        File.Copy(source, target, overwrite: true);
        return null;
    }

    /// <summary>Loads what an earlier pool left; returns the tasks to run, interrupted ones included.</summary>
    private List<PoolTask> Recover()
    {
        var pending = new List<PoolTask>();
        foreach (var jobDirectory in Directory.EnumerateDirectories(_root))
        {
            var jobId = Path.GetFileName(jobDirectory);
            if (!ComputeTaskFiles.IsValidId(jobId))
            {
                continue;
            }

            var job = new PoolJob(jobDirectory) { Terminated = File.Exists(Path.Combine(jobDirectory, TerminatedMarker)) };
            _jobs.Add(jobId, job);
            foreach (var taskDirectory in Directory.EnumerateDirectories(jobDirectory))
            {
                var specPath = Path.Combine(taskDirectory, SpecFile);
                if (!File.Exists(specPath))
                {
                    // Created, but its spec never written: the submission did not return, and a retry adds it again.
                    continue;
                }

                if (Read<StoredSpec>(specPath) is not { } stored)
                {
                    // Torn by a crash of the machine before it reached the disk: the job's next advance submits it again.
                    continue;
                }

                var task = new PoolTask(stored.Task, stored.Sequence, taskDirectory);
                if (Read<StoredState>(Path.Combine(taskDirectory, StateFile)) is { } state)
                {
                    task.State = state.State;
                    task.ExitCode = state.ExitCode;
                    task.FailureMessage = state.FailureMessage;
                    if (state.State == ComputeTaskState.Running)
                    {
                        KillLeftover(state.ProcessId, state.ProcessStartTicks);
                        task.State = ComputeTaskState.Pending;
                    }
                }

                if (task.State == ComputeTaskState.Pending && job.Terminated)
                {
                    task.State = ComputeTaskState.Failed;
                    task.FailureMessage = TerminatedMessage;
                }

                Persist(task);
                job.Tasks.Add(task.Spec.Id, task);
                _nextSequence = Math.Max(_nextSequence, task.Sequence + 1);
                if (task.State == ComputeTaskState.Pending)
                {
                    pending.Add(task);
                }
            }
        }

        return pending;
    }

    /// <summary>Kills a task's process that outlived the pool that started it (the server was killed, say), when the
    /// process id still names that very process (same start time).</summary>
    private static void KillLeftover(int? processId, long? startTicks)
    {
        if (processId is not { } id || startTicks is not { } ticks)
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(id);
            if (StartTicksOf(process) == ticks)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Gone already.
        }
    }

    private static long? StartTicksOf(Process process)
    {
        try
        {
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    private static void Persist(PoolTask task, bool flushToDisk = true) =>
        AtomicFile.Write(Path.Combine(task.Directory, StateFile), JsonSerializer.Serialize(
            new StoredState(task.State, task.ExitCode, task.FailureMessage, task.ProcessId, task.ProcessStartTicks), Json), flushToDisk);

    /// <summary>A state file, or null when it is missing or unreadable (then the task is pending: it runs again).</summary>
    private static T? Read<T>(string path)
        where T : class
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The full path of a readable task file, or null: stdout.txt, stderr.txt, or a file under out/ reached
    /// without leaving it (no "..", no symbolic link on the way).</summary>
    private static string? ReadablePath(string taskDirectory, string path)
    {
        var relative = path.Replace('\\', '/');
        if (relative is StdoutFile or StderrFile)
        {
            return Path.Combine(taskDirectory, relative);
        }

        if (!relative.StartsWith(OutFolder + "/", StringComparison.Ordinal) || !IsRelativePath(relative))
        {
            return null;
        }

        var current = taskDirectory;
        foreach (var segment in relative.Split('/'))
        {
            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null || (Directory.Exists(current) && new DirectoryInfo(current).LinkTarget is not null))
            {
                return null;
            }
        }

        return File.Exists(current) ? current : null;
    }

    private static string? LastLine(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var length = (int)Math.Min(stream.Length, 4096);
            stream.Seek(-length, SeekOrigin.End);
            var buffer = new byte[length];
            stream.ReadExactly(buffer);
            var line = Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            return line is { Length: > 500 } ? line[..500] : line;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The job, created (with its folder) when new; called under the lock, and refused once the pool stops.</summary>
    private PoolJob OpenJob(string jobId)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (!_jobs.TryGetValue(jobId, out var job))
        {
            job = new PoolJob(Path.Combine(_root, jobId));
            Directory.CreateDirectory(job.Directory);
            _jobs.Add(jobId, job);
        }

        return job;
    }

    private static void CheckId(string id, string parameter)
    {
        ArgumentNullException.ThrowIfNull(id, parameter);
        if (!ComputeTaskFiles.IsValidId(id))
        {
            throw new ArgumentException($"'{id}' is not an id: 1..{ComputeTaskFiles.MaxIdLength} letters, digits, '-' and '_'.", parameter);
        }
    }

    private static bool IsRelativePath(string path) =>
        path.Length is >= 1 and <= 1024 && !path.StartsWith('/') && !path.Contains('\\')
        && path.Split('/').All(s => s.Length > 0 && s is not "." and not ".." && !s.Any(char.IsControl));

    private static void CheckRelativePath(string path, string parameter)
    {
        ArgumentNullException.ThrowIfNull(path, parameter);
        if (!IsRelativePath(path))
        {
            throw new ArgumentException($"The input file name '{path}' must be a relative path inside the task's folder ('/' separated, no '.' or '..').", parameter);
        }
    }

    private sealed class PoolJob(string directory)
    {
        public string Directory { get; } = directory;

        public Dictionary<string, PoolTask> Tasks { get; } = new(StringComparer.Ordinal);

        public bool Terminated { get; set; }
    }

    private sealed class PoolTask(ComputeTask spec, long sequence, string directory)
    {
        private CancellationTokenSource? _run;
        private TaskCompletionSource _finished = Done();

        public ComputeTask Spec { get; } = spec;

        public long Sequence { get; } = sequence;

        public string Directory { get; } = directory;

        public ComputeTaskState State { get; set; }

        public int? ExitCode { get; set; }

        public string? FailureMessage { get; set; }

        public int? ProcessId { get; set; }

        public long? ProcessStartTicks { get; set; }

        public bool TerminateRequested { get; set; }

        /// <summary>Completes when the current run (if any) has recorded its outcome.</summary>
        public Task Finished => _finished.Task;

        public ComputeTaskStatus Status => new(Spec.Id, State, ExitCode, FailureMessage);

        public void Start(CancellationTokenSource run)
        {
            State = ComputeTaskState.Running;
            ExitCode = null;
            FailureMessage = null;
            _run = run;
            _finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Cancel() => _run?.Cancel();

        public void End()
        {
            _run = null;
            _finished.TrySetResult();
        }

        private static TaskCompletionSource Done()
        {
            var done = new TaskCompletionSource();
            done.SetResult();
            return done;
        }
    }

    private sealed record StoredSpec(ComputeTask Task, long Sequence);

    private sealed record StoredState(ComputeTaskState State, int? ExitCode, string? FailureMessage, int? ProcessId, long? ProcessStartTicks);

    /// <summary>Writes a small file so that a reader sees the old content or the whole new one (renamed over it),
    /// flushed to disk first unless told not to.</summary>
    private static class AtomicFile
    {
        public static void Write(string path, string content, bool flushToDisk = true)
        {
            var temp = path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(Encoding.UTF8.GetBytes(content));
                stream.Flush(flushToDisk);
            }

            File.Move(temp, path, overwrite: true);
        }
    }
}
