namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// One task of Add Task Collection (<c>POST {account}/jobs/{jobId}/addtaskcollection</c>): <c>{"id","displayName",
/// "commandLine","resourceFiles":[..],"outputFiles":[..],"environmentSettings":[{"name","value"}],"constraints":{..},
/// "userIdentity":{..},"requiredSlots"}</c>. Named as the official client's <c>BatchTaskCreateContent</c>
/// (<c>BatchTaskCreateOptions</c> in its 1.0 release); unset members are left out of the body.
/// </summary>
/// <param name="Id">Unique within the job, case-insensitively: 1..64 letters, digits, '-' and '_'.</param>
/// <param name="CommandLine">
/// Not run under a shell: to expand variables such as <c>$AZ_BATCH_NODE_SHARED_DIR</c>, run one, e.g.
/// <c>/bin/sh -c "..."</c>.
/// </param>
public sealed record BatchTaskCreateContent(string Id, string CommandLine)
{
    /// <summary>Any Unicode text up to 1024 characters.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Files downloaded into the task's working directory before the command line runs.</summary>
    public IReadOnlyList<ResourceFile> ResourceFiles { get; init; } = [];

    /// <summary>Files uploaded to blob storage after the command line ran.</summary>
    public IReadOnlyList<OutputFile> OutputFiles { get; init; } = [];

    /// <summary>Environment variables of the task process.</summary>
    public IReadOnlyList<EnvironmentSetting> EnvironmentSettings { get; init; } = [];

    /// <summary>Without constraints the job's maxTaskRetryCount applies, no wall-clock limit, and files are kept 7 days.</summary>
    public BatchTaskConstraints? Constraints { get; init; }

    /// <summary>Without one the task runs as a non-administrative user of its own.</summary>
    public UserIdentity? UserIdentity { get; init; }

    /// <summary>Scheduling slots the task takes on a node; the service's default is 1.</summary>
    public int? RequiredSlots { get; init; }
}

/// <summary>
/// A file, or the blobs of a container, downloaded to the node before a task runs. Exactly one of
/// <see cref="HttpUri"/> (with <see cref="FilePath"/>), <see cref="StorageContainerUri"/> or
/// <see cref="AutoStorageContainerName"/> is set. A blob must be readable by the node: a SAS in the URL, public
/// access, or a pool managed identity named in <see cref="IdentityReference"/>.
/// </summary>
public sealed record ResourceFile
{
    /// <summary><c>httpUrl</c>: the file to download.</summary>
    public Uri? HttpUri { get; init; }

    /// <summary><c>storageContainerUrl</c>: a blob container whose blobs (under <see cref="BlobPrefix"/>) are downloaded.</summary>
    public Uri? StorageContainerUri { get; init; }

    /// <summary>A container of the account's auto-storage account.</summary>
    public string? AutoStorageContainerName { get; init; }

    /// <summary>With a container: only blobs whose names start with this.</summary>
    public string? BlobPrefix { get; init; }

    /// <summary>Where the file goes, relative to the task's working directory (no '..'); required with <see cref="HttpUri"/>.</summary>
    public string? FilePath { get; init; }

    /// <summary>Octal file mode on Linux nodes (the service's default is 0770).</summary>
    public string? FileMode { get; init; }

    /// <summary>The pool's user-assigned identity that reads the blob.</summary>
    public BatchNodeIdentityReference? IdentityReference { get; init; }
}

/// <summary>
/// Files a task uploads after it ran: <c>{"filePattern","destination":{"container":{"containerUrl","path",
/// "identityReference"}},"uploadOptions":{"uploadCondition"}}</c>. The pattern is relative to the task's working
/// directory (<c>../stdout.txt</c> reaches the task directory's standard output); <c>*</c>, <c>**</c>, <c>?</c> and
/// <c>[..]</c> are wildcards.
/// </summary>
public sealed record OutputFile(string FilePattern, OutputFileDestination Destination, OutputFileUploadConfig UploadOptions);

/// <summary>Where output files go (<c>destination</c>): a blob container.</summary>
public sealed record OutputFileDestination
{
    public OutputFileBlobContainerDestination? Container { get; init; }
}

/// <summary>
/// A blob container destination. Without a SAS in <see cref="ContainerUri"/> the upload authenticates as the pool's
/// user-assigned identity named in <see cref="IdentityReference"/>, which needs write access to the container.
/// </summary>
/// <param name="ContainerUri"><c>containerUrl</c>, e.g. <c>https://account.blob.core.windows.net/outputs</c>.</param>
public sealed record OutputFileBlobContainerDestination(Uri ContainerUri)
{
    /// <summary>
    /// For a pattern without wildcards, the blob name; with wildcards, the virtual directory prepended to each
    /// uploaded file's name. Without it files land at the container's root.
    /// </summary>
    public string? Path { get; init; }

    public BatchNodeIdentityReference? IdentityReference { get; init; }
}

/// <summary>When output files are uploaded (<c>uploadOptions</c>).</summary>
public sealed record OutputFileUploadConfig(OutputFileUploadCondition UploadCondition);

/// <summary>A user-assigned managed identity of the pool, by its ARM resource id.</summary>
/// <param name="ResourceId">
/// <c>/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}</c>.
/// </param>
public sealed record BatchNodeIdentityReference(string ResourceId);

/// <summary>An environment variable of a task process.</summary>
public sealed record EnvironmentSetting(string Name, string? Value);

/// <summary>A task's execution constraints (<c>constraints</c>).</summary>
public sealed record BatchTaskConstraints
{
    /// <summary>The task is terminated once it has run this long (ISO 8601 duration on the wire).</summary>
    public TimeSpan? MaxWallClockTime { get; init; }

    /// <summary>How long the task directory is kept on the node after the task completed (the service's default is 7 days).</summary>
    public TimeSpan? RetentionTime { get; init; }

    /// <summary>Retries after a non-zero exit code: 0 none (the service's default), -1 unlimited.</summary>
    public int? MaxTaskRetryCount { get; init; }
}

/// <summary>The user a task runs as: a named user of the pool or an auto user, not both.</summary>
public sealed record UserIdentity
{
    /// <summary><c>username</c>: a user account of the pool.</summary>
    public string? UserName { get; init; }

    public AutoUserSpecification? AutoUser { get; init; }
}

/// <summary>An auto user: its scope (the service's default is pool) and elevation (nonadmin by default).</summary>
public sealed record AutoUserSpecification
{
    public AutoUserScope? Scope { get; init; }

    public ElevationLevel? ElevationLevel { get; init; }
}

/// <summary>The result of Add Task Collection: one result per task, in any order.</summary>
public sealed record BatchCreateTaskCollectionResult(IReadOnlyList<BatchTaskCreateResult> Values);

/// <summary>
/// The result for one task of Add Task Collection: <c>{"status","taskId","eTag","lastModified","location",
/// "error":{"code","message":{"lang","value"},"values":[..]}}</c>. A task id already in the job gives
/// <see cref="BatchTaskAddStatus.ClientError"/> with code TaskExists.
/// </summary>
public sealed record BatchTaskCreateResult(BatchTaskAddStatus Status, string TaskId)
{
    public string? ETag { get; init; }

    public DateTimeOffset? LastModified { get; init; }

    public string? Location { get; init; }

    public BatchError? Error { get; init; }
}

/// <summary>A task as List Tasks returns it; only the members this client reads. Named as the official client's <c>BatchTask</c>.</summary>
public sealed record BatchTask(string Id)
{
    public string? DisplayName { get; init; }

    public BatchTaskState? State { get; init; }

    public DateTimeOffset? StateTransitionTime { get; init; }

    public BatchTaskState? PreviousState { get; init; }

    public string? CommandLine { get; init; }

    public string? ETag { get; init; }

    public BatchTaskExecutionInfo? ExecutionInfo { get; init; }
}

/// <summary>A task's <c>executionInfo</c>.</summary>
public sealed record BatchTaskExecutionInfo
{
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Set only in the completed state.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>The command line's exit code; set only in the completed state, and absent when the process never ran.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Set when the task completed with a failure (non-zero exit, pre-processing or upload error, termination).</summary>
    public BatchTaskFailureInfo? FailureInfo { get; init; }

    public int RetryCount { get; init; }

    public int RequeueCount { get; init; }

    /// <summary>success or failure; set only in the completed state.</summary>
    public BatchTaskExecutionResult? Result { get; init; }
}

/// <summary>Why a task failed (<c>failureInfo</c>).</summary>
public sealed record BatchTaskFailureInfo(BatchErrorSourceCategory Category)
{
    public string? Code { get; init; }

    public string? Message { get; init; }

    public IReadOnlyList<NameValuePair> Details { get; init; } = [];
}

/// <summary>A name and a value.</summary>
public sealed record NameValuePair(string? Name, string? Value);

/// <summary>
/// A Batch error body: <c>{"odata.metadata":"..","code":"..","message":{"lang":"en-US","value":".."},
/// "values":[{"key":"..","value":".."}]}</c> (also the <c>error</c> of a task's Add Task Collection result).
/// </summary>
public sealed record BatchError(string? Code, BatchErrorMessage? Message)
{
    public IReadOnlyList<BatchErrorDetail> Values { get; init; } = [];
}

/// <summary>An error's message and its language.</summary>
public sealed record BatchErrorMessage(string? Lang, string? Value);

/// <summary>A detail of an error, e.g. <c>{"key":"Reason","value":".."}</c>.</summary>
public sealed record BatchErrorDetail(string? Key, string? Value);
