using Btmc.Compute.Jobs;
using Btmc.Platform.Compute;

namespace Btmc.Compute.Tests.Jobs;

/// <summary>
/// An in-memory pool for the job service's tests: hashing tasks run in this process (NonceSearch), each contributor
/// behaving as told: honest, a liar (reports no finds), invalid (reports a wrong hash count) or broken (the task fails).
/// With <see cref="RunOnSubmit"/> false, tasks wait until <see cref="RunPending"/>.
/// </summary>
internal sealed class FakeComputePool : IComputePool
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Entry>> _jobs = new(StringComparer.Ordinal);

    public enum Behaviour
    {
        Honest,
        Liar,
        Invalid,
        Broken,
    }

    public Dictionary<string, Behaviour> Behaviours { get; } = new(StringComparer.Ordinal);

    public bool RunOnSubmit { get; set; } = true;

    public List<string> Terminated { get; } = [];

    public int Submitted { get; private set; }

    public IReadOnlyList<ComputeTask> TasksOf(string jobId)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(jobId, out var entries) ? [.. entries.Select(e => e.Task)] : [];
        }
    }

    public Task SubmitAsync(string jobId, IReadOnlyList<ComputeTask> tasks, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var entries))
            {
                _jobs[jobId] = entries = [];
            }

            foreach (var task in tasks.Where(t => entries.All(e => e.Task.Id != t.Id)))
            {
                var entry = new Entry(task);
                entries.Add(entry);
                Submitted++;
                if (RunOnSubmit)
                {
                    Run(entry);
                }
            }
        }

        return Task.CompletedTask;
    }

    public void RunPending()
    {
        lock (_gate)
        {
            foreach (var entry in _jobs.Values.SelectMany(e => e).Where(e => e.Status.State == ComputeTaskState.Pending))
            {
                Run(entry);
            }
        }
    }

    public Task<IReadOnlyList<ComputeTaskStatus>> GetTasksAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<ComputeTaskStatus> statuses = _jobs.TryGetValue(jobId, out var entries) ? [.. entries.Select(e => e.Status)] : [];
            return Task.FromResult(statuses);
        }
    }

    public Task<byte[]?> ReadTaskFileAsync(string jobId, string taskId, string path, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var entry = _jobs.GetValueOrDefault(jobId)?.FirstOrDefault(e => e.Task.Id == taskId);
            return Task.FromResult(path == ComputeTaskFiles.Stdout ? entry?.Stdout : null);
        }
    }

    public Task TerminateAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Terminated.Add(jobId);
        }

        return Task.CompletedTask;
    }

    private void Run(Entry entry)
    {
        var args = entry.Task.WorkerArguments;
        string Option(string name) => args[args.ToList().IndexOf(name) + 1];
        var behaviour = Behaviours.GetValueOrDefault(entry.Task.Contributor);
        if (behaviour == Behaviour.Broken)
        {
            entry.Status = new ComputeTaskStatus(entry.Task.Id, ComputeTaskState.Failed, 1, "exit code 1: broken worker");
            return;
        }

        var count = ulong.Parse(Option("--count"));
        var found = NonceSearch.Search(Convert.FromHexString(Option("--header")), int.Parse(Option("--bits")), ulong.Parse(Option("--start")), count, 1);
        var output = behaviour switch
        {
            Behaviour.Liar => new HashRangeOutput(count, []),
            Behaviour.Invalid => new HashRangeOutput(count - 1, found),
            _ => new HashRangeOutput(count, found),
        };
        entry.Stdout = System.Text.Encoding.UTF8.GetBytes(WorkerOutput.ToJson(output) + "\n");
        entry.Status = new ComputeTaskStatus(entry.Task.Id, ComputeTaskState.Completed, 0, null);
    }

    private sealed class Entry(ComputeTask task)
    {
        public ComputeTask Task { get; } = task;

        public ComputeTaskStatus Status { get; set; } = new(task.Id, ComputeTaskState.Pending, null, null);

        public byte[]? Stdout { get; set; }
    }
}
