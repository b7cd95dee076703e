using System.Text;
using Azure;
using Btmc.Platform.Compute;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// The compute pool port on an Azure Batch pool (docs/compute.md): a compute job is a Batch job on the pool
/// <c>poolId</c>, each compute task a Batch task that runs <c>btmc worker …</c> on a node.
/// <list type="bullet">
/// <item>Command line: <c>/bin/sh -c "{WorkerExecutable} worker 'arg1' 'arg2' …"</c> (see <see cref="WorkerCommandLine"/>);
/// by default the executable is <c>$AZ_BATCH_NODE_SHARED_DIR/btmc/btmc</c>, which the pool's start task installs.</item>
/// <item>The contributor is the task's display name and its <c>BTMC_CONTRIBUTOR</c> environment variable.</item>
/// <item>Inputs: each <see cref="TaskInputFile"/> whose source is an https URL becomes a resource file
/// (<c>httpUrl</c> → the file name in the working directory); a blob URL of the output container's storage account
/// without a SAS is read as the pool identity (<c>identityReference</c>). Other sources (local paths) are refused:
/// nodes cannot reach them.</item>
/// <item>Outputs: when the task ends, whatever its exit code, <c>out/**</c> is uploaded to
/// <c>{container}/{jobId}/{taskId}/out/…</c> and the task's <c>stdout.txt</c> and <c>stderr.txt</c> (one directory above
/// the working directory) to <c>{container}/{jobId}/{taskId}/stdout.txt</c> and <c>…/stderr.txt</c>, as the pool
/// identity. Those blobs outlive the node; <see cref="ReadTaskFileAsync"/> reads the node's copies through Get Task
/// File, available while the node and the task's retention time last.</item>
/// </list>
/// Submitting is idempotent: an existing job (409 JobExists) is reused and a task id already in the job (TaskExists) is
/// left as it is, so a submission that failed halfway can simply be repeated.
/// </summary>
public sealed class BatchComputePool : IComputePool
{
    /// <summary>The environment variable that names the task's contributor to the worker.</summary>
    public const string ContributorVariable = "BTMC_CONTRIBUTOR";

    private const int MaxDisplayNameLength = 1024;

    private static readonly string[] TaskSelect = ["id", "state", "executionInfo"];

    private readonly BatchClient _client;
    private readonly string _poolId;
    private readonly BatchPoolSettings _settings;

    /// <exception cref="ArgumentException">The pool id is malformed or the settings are invalid.</exception>
    public BatchComputePool(BatchClient client, string poolId, BatchPoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        BatchClient.ValidateId(poolId, "pool", nameof(poolId));
        settings.Validate();
        _client = client;
        _poolId = poolId;
        _settings = settings;
    }

    /// <summary>
    /// Creates the job on the pool unless it exists, then adds the tasks in collections of at most 100. Every task is
    /// checked before anything is sent.
    /// </summary>
    /// <exception cref="ArgumentException">A malformed or duplicate task id, an input that is not an https URL, a bad file name.</exception>
    /// <exception cref="InvalidOperationException">
    /// The service refused some tasks for a reason other than TaskExists; the message names each task, its error code and
    /// message. The other tasks were added; submitting again adds the missing ones.
    /// </exception>
    /// <exception cref="RequestFailedException">A whole request was refused or throttled beyond the retries.</exception>
    public async Task SubmitAsync(string jobId, IReadOnlyList<ComputeTask> tasks, CancellationToken cancellationToken = default)
    {
        BatchClient.ValidateId(jobId, "job", nameof(jobId));
        ArgumentNullException.ThrowIfNull(tasks);
        var contents = BuildTasks(jobId, tasks);

        await EnsureJobAsync(jobId, cancellationToken).ConfigureAwait(false);

        var refused = new List<string>();
        foreach (var collection in contents.Chunk(BatchClient.MaxTasksPerCollection))
        {
            BatchCreateTaskCollectionResult result = await _client.CreateTaskCollectionAsync(jobId, collection, cancellationToken)
                .ConfigureAwait(false);
            var answered = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var taskResult in result.Values)
            {
                answered.Add(taskResult.TaskId);
                if (!IsAdded(taskResult))
                {
                    refused.Add(Describe(taskResult));
                }
            }

            refused.AddRange(collection.Where(task => !answered.Contains(task.Id))
                .Select(task => $"task '{task.Id}': the service returned no result for it"));
        }

        if (refused.Count > 0)
        {
            throw new InvalidOperationException(
                $"Batch refused {refused.Count} task(s) of job '{jobId}': {string.Join("; ", refused)}.");
        }
    }

    /// <summary>
    /// Every task of the job (all pages of List Tasks, <c>$select=id,state,executionInfo</c>): active and preparing are
    /// <see cref="ComputeTaskState.Pending"/>, running is <see cref="ComputeTaskState.Running"/>, completed with exit
    /// code 0 and result success is <see cref="ComputeTaskState.Completed"/>, any other completion
    /// <see cref="ComputeTaskState.Failed"/> with the exit code (if the process ran) and the failure's message.
    /// </summary>
    /// <exception cref="RequestFailedException">404 JobNotFound for an unknown job; any other refusal.</exception>
    public async Task<IReadOnlyList<ComputeTaskStatus>> GetTasksAsync(string jobId, CancellationToken cancellationToken = default)
    {
        BatchClient.ValidateId(jobId, "job", nameof(jobId));
        var statuses = new List<ComputeTaskStatus>();
        await foreach (var task in _client.GetTasksAsync(jobId, select: TaskSelect, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            statuses.Add(ToStatus(task));
        }

        return statuses;
    }

    /// <summary>
    /// A file the task left on its node, through Get Task File: <c>stdout.txt</c> and <c>stderr.txt</c> from the task
    /// directory, <c>out/&lt;name&gt;</c> from <c>out/</c> of the working directory (<c>wd/out/&lt;name&gt;</c> on the
    /// node). Null when there is none. The same files are also in blob storage under
    /// <c>{container}/{jobId}/{taskId}/</c>, where they stay after the node's copy is gone.
    /// </summary>
    /// <exception cref="ArgumentException">The path is none of those forms (or climbs with '..'); nothing is sent.</exception>
    public Task<byte[]?> ReadTaskFileAsync(string jobId, string taskId, string path, CancellationToken cancellationToken = default)
    {
        BatchClient.ValidateId(jobId, "job", nameof(jobId));
        BatchClient.ValidateId(taskId, "task", nameof(taskId));
        ArgumentNullException.ThrowIfNull(path);
        var nodePath = path switch
        {
            ComputeTaskFiles.Stdout or ComputeTaskFiles.Stderr => path,
            _ when path.StartsWith(ComputeTaskFiles.OutFolder + "/", StringComparison.Ordinal) && IsRelativeFilePath(path) => "wd/" + path,
            _ => throw new ArgumentException($"'{path}' is not stdout.txt, stderr.txt or out/<name>.", nameof(path)),
        };
        return _client.GetTaskFileAsync(jobId, taskId, nodePath, cancellationToken);
    }

    /// <summary>Terminates the job: running tasks are stopped, files stay readable. An unknown or already completed job is fine.</summary>
    public async Task TerminateAsync(string jobId, CancellationToken cancellationToken = default)
    {
        BatchClient.ValidateId(jobId, "job", nameof(jobId));
        try
        {
            await _client.TerminateJobAsync(jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 409)
        {
            // 404 JobNotFound: nothing to end. 409 (JobCompleted, or being terminated or deleted): it is ending already.
        }
    }

    /// <summary>
    /// The Batch command line that runs <c>btmc worker</c> with <paramref name="workerArguments"/>:
    /// <c>/bin/sh -c "{WorkerExecutable} worker 'arg1' 'arg2' …"</c>. Each argument is single-quoted for sh, an embedded
    /// single quote written <c>'\''</c>. The script sits inside double quotes, which the Batch node agent strips when it
    /// splits the command line (POSIX quoting, no expansion); so that an argument survives that too, <c>"</c>, <c>$</c>
    /// and <c>`</c> in it are escaped with a backslash, as is a backslash before one of those or another backslash.
    /// Arguments without those characters appear exactly as single-quoted.
    /// </summary>
    public string WorkerCommandLine(IReadOnlyList<string> workerArguments)
    {
        ArgumentNullException.ThrowIfNull(workerArguments);
        var script = new StringBuilder();
        foreach (var argument in workerArguments)
        {
            ArgumentNullException.ThrowIfNull(argument, nameof(workerArguments));
            script.Append(' ').Append(QuoteForSh(argument));
        }

        return $"/bin/sh -c \"{_settings.WorkerExecutable} worker{EscapeForDoubleQuotes(script.ToString())}\"";
    }

    /// <summary><paramref name="argument"/> as one sh word: in single quotes, each <c>'</c> written <c>'\''</c>.</summary>
    internal static string QuoteForSh(string argument) => "'" + argument.Replace("'", @"'\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// <paramref name="text"/> made to read back unchanged from inside POSIX double quotes: <c>"</c>, <c>$</c> and
    /// <c>`</c> get a backslash, and so does a backslash followed by one of <c>"</c>, <c>$</c>, <c>`</c>, <c>\</c> or a
    /// newline; any other backslash stays single (inside double quotes it is literal).
    /// </summary>
    internal static string EscapeForDoubleQuotes(string text)
    {
        var escaped = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var special = c is '"' or '$' or '`'
                || (c == '\\' && (i + 1 == text.Length || text[i + 1] is '"' or '$' or '`' or '\\' or '\n'));
            if (special)
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private async Task EnsureJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var job = new BatchJobCreateContent(jobId, new BatchPoolInfo { PoolId = _poolId })
        {
            AllTasksCompleteMode = BatchAllTasksCompleteMode.NoAction,
            TaskFailureMode = BatchTaskFailureMode.NoAction,
        };
        try
        {
            await _client.CreateJobAsync(job, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException exception) when (exception.Status == 409 && exception.ErrorCode == "JobExists")
        {
            // Submitted before (or the first try of this POST was applied and only its answer was lost).
        }
    }

    private BatchTaskCreateContent[] BuildTasks(string jobId, IReadOnlyList<ComputeTask> tasks)
    {
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var contents = new BatchTaskCreateContent[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i] ?? throw new ArgumentException($"Task {i} is null.", nameof(tasks));
            BatchClient.ValidateId(task.Id, "task", nameof(tasks));
            if (!ids.Add(task.Id))
            {
                throw new ArgumentException($"Task id '{task.Id}' appears twice (Batch task ids are case-insensitive).", nameof(tasks));
            }

            if (string.IsNullOrWhiteSpace(task.Contributor))
            {
                throw new ArgumentException($"Task '{task.Id}' names no contributor.", nameof(tasks));
            }

            contents[i] = new BatchTaskCreateContent(task.Id, WorkerCommandLine(task.WorkerArguments ?? []))
            {
                DisplayName = task.Contributor.Length <= MaxDisplayNameLength ? task.Contributor : task.Contributor[..MaxDisplayNameLength],
                EnvironmentSettings = [new EnvironmentSetting(ContributorVariable, task.Contributor)],
                ResourceFiles = [.. (task.InputFiles ?? []).Select(input => ToResourceFile(task.Id, input))],
                OutputFiles = OutputFilesOf(jobId, task.Id),
                Constraints = new BatchTaskConstraints
                {
                    MaxTaskRetryCount = _settings.MaxTaskRetryCount,
                    MaxWallClockTime = _settings.MaxWallClockTime,
                    RetentionTime = _settings.RetentionTime,
                },
                UserIdentity = _settings.UserIdentity,
            };
        }

        return contents;
    }

    private ResourceFile ToResourceFile(string taskId, TaskInputFile input)
    {
        if (input is null || !IsRelativeFilePath(input.FileName))
        {
            throw new ArgumentException(
                $"Task '{taskId}' has an input file name '{input?.FileName}' that is not a relative path without '..'.", "tasks");
        }

        if (!Uri.TryCreate(input.Source, UriKind.Absolute, out var source) || source.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException(
                $"Task '{taskId}' reads '{input.FileName}' from '{input.Source}', which is not an https URL; Batch nodes download "
                + "inputs over https (upload the file to blob storage first).",
                "tasks");
        }

        // A blob of the output container's storage account, without a SAS: the pool identity reads it.
        var ownAccountBlob = string.Equals(source.Host, _settings.OutputContainerUri.Host, StringComparison.OrdinalIgnoreCase)
            && !source.Query.Contains("sig=", StringComparison.OrdinalIgnoreCase);
        return new ResourceFile
        {
            HttpUri = source,
            FilePath = input.FileName,
            IdentityReference = ownAccountBlob ? new BatchNodeIdentityReference(_settings.UploadIdentityResourceId) : null,
        };
    }

    private OutputFile[] OutputFilesOf(string jobId, string taskId)
    {
        var prefix = $"{jobId}/{taskId}";
        return
        [
            Upload("out/**/*", prefix + "/out"),
            Upload("../stdout.txt", prefix + "/stdout.txt"),
            Upload("../stderr.txt", prefix + "/stderr.txt"),
        ];

        OutputFile Upload(string pattern, string path) => new(
            pattern,
            new OutputFileDestination
            {
                Container = new OutputFileBlobContainerDestination(_settings.OutputContainerUri)
                {
                    Path = path,
                    IdentityReference = new BatchNodeIdentityReference(_settings.UploadIdentityResourceId),
                },
            },
            new OutputFileUploadConfig(OutputFileUploadCondition.TaskCompletion));
    }

    private static ComputeTaskStatus ToStatus(BatchTask task)
    {
        var info = task.ExecutionInfo;
        if (task.State == BatchTaskState.Running)
        {
            return new ComputeTaskStatus(task.Id, ComputeTaskState.Running, null, null);
        }

        if (task.State != BatchTaskState.Completed)
        {
            // active, preparing, or a state this client does not know yet: not running anything the owner can read.
            return new ComputeTaskStatus(task.Id, ComputeTaskState.Pending, null, null);
        }

        if (info is { ExitCode: 0, FailureInfo: null } && info.Result == BatchTaskExecutionResult.Success)
        {
            return new ComputeTaskStatus(task.Id, ComputeTaskState.Completed, 0, null);
        }

        var message = info?.FailureInfo is { } failure
            ? failure.Message ?? failure.Code ?? "The task failed."
            : info?.ExitCode is { } exitCode ? $"The worker exited with code {exitCode}." : "The task completed without a result.";
        return new ComputeTaskStatus(task.Id, ComputeTaskState.Failed, info?.ExitCode, message);
    }

    private static bool IsAdded(BatchTaskCreateResult result) =>
        result.Status == BatchTaskAddStatus.Success
        || (result.Status == BatchTaskAddStatus.ClientError && result.Error?.Code == "TaskExists");

    private static string Describe(BatchTaskCreateResult result) =>
        $"task '{result.TaskId}': {result.Error?.Code ?? "no error code"} ({result.Status}) {result.Error?.Message?.Value}".TrimEnd();

    private static bool IsRelativeFilePath(string? path) =>
        !string.IsNullOrEmpty(path)
        && !path.StartsWith('/')
        && !path.Contains('\\')
        && path.Split('/').All(segment => segment is not ("" or "." or ".."));
}
