namespace Btmc.Platform.Compute;

/// <summary>One task of a compute job: who runs it, and the <c>btmc worker</c> arguments it runs with.</summary>
/// <param name="Id">Unique within the job: 1..64 characters of letters, digits, '-' and '_'.</param>
/// <param name="Contributor">The contributor whose worker runs the task (credited once the result is verified).</param>
/// <param name="WorkerArguments">The arguments after <c>btmc worker</c>, e.g. <c>["hash-range", "--header", "…"]</c>.</param>
/// <param name="InputFiles">Files the task reads: a name in the task's working directory and where to fetch it from (a blob URL in Azure, a local path in the embedded pool).</param>
public sealed record ComputeTask(string Id, string Contributor, IReadOnlyList<string> WorkerArguments, IReadOnlyList<TaskInputFile> InputFiles);

/// <summary>What every pool keeps of a task, and the ids every pool accepts: the contract's names, not one pool's.</summary>
public static class ComputeTaskFiles
{
    /// <summary>The task's standard output: the worker's JSON result.</summary>
    public const string Stdout = "stdout.txt";

    /// <summary>The task's standard error.</summary>
    public const string Stderr = "stderr.txt";

    /// <summary>The folder under the task's working directory whose files are kept as its outputs.</summary>
    public const string OutFolder = "out";

    /// <summary>Longest job or task id: 64 letters, digits, '-' and '_'.</summary>
    public const int MaxIdLength = 64;

    /// <summary>Whether <paramref name="id"/> is a job or task id every pool accepts: 1..64 letters, digits, '-' and '_'.</summary>
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= MaxIdLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>A file a task reads: its name in the task's working directory, and its source.</summary>
public sealed record TaskInputFile(string FileName, string Source);

/// <summary>Where a task stands. Output files are the task's <c>stdout.txt</c>, <c>stderr.txt</c> and what it wrote under <c>out/</c>.</summary>
public sealed record ComputeTaskStatus(string Id, ComputeTaskState State, int? ExitCode, string? FailureMessage);

public enum ComputeTaskState
{
    Pending,
    Running,
    Completed,
    Failed,
}

/// <summary>
/// Where compute tasks run (docs/compute.md): a local process pool in the embedded default, an Azure Batch GPU pool
/// in Azure. Each task runs <c>btmc worker …</c> in a working directory of its own; its standard output (the worker's
/// JSON result) and the files it writes under <c>out/</c> are kept for the job's owner.
/// </summary>
public interface IComputePool
{
    /// <summary>Creates the job if it does not exist and adds the tasks (idempotent: a task id already added is left as it is).</summary>
    Task SubmitAsync(string jobId, IReadOnlyList<ComputeTask> tasks, CancellationToken cancellationToken = default);

    /// <summary>Every task of the job and its state.</summary>
    Task<IReadOnlyList<ComputeTaskStatus>> GetTasksAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>A file a task left: <c>stdout.txt</c>, <c>stderr.txt</c> or <c>out/&lt;name&gt;</c>; null when there is none.</summary>
    Task<byte[]?> ReadTaskFileAsync(string jobId, string taskId, string path, CancellationToken cancellationToken = default);

    /// <summary>Ends the job: running tasks are stopped; files stay readable.</summary>
    Task TerminateAsync(string jobId, CancellationToken cancellationToken = default);
}
