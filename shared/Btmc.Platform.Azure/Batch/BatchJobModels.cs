namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// The body of Add Job (<c>POST {account}/jobs</c>): <c>{"id","displayName","priority","poolInfo":{"poolId"},
/// "onAllTasksComplete","onTaskFailure","constraints":{"maxWallClockTime","maxTaskRetryCount"},"usesTaskDependencies"}</c>.
/// Named as the official client's <c>BatchJobCreateContent</c> (<c>BatchJobCreateOptions</c> in its 1.0 release);
/// unset members are left out of the body, so the service's defaults apply.
/// </summary>
/// <param name="Id">Unique within the account, case-insensitively: 1..64 letters, digits, '-' and '_'.</param>
/// <param name="PoolInfo">The pool the job's tasks run on.</param>
public sealed record BatchJobCreateContent(string Id, BatchPoolInfo PoolInfo)
{
    /// <summary>Any Unicode text up to 1024 characters.</summary>
    public string? DisplayName { get; init; }

    /// <summary>-1000 (lowest) to 1000 (highest); the service's default is 0.</summary>
    public int? Priority { get; init; }

    /// <summary>
    /// <c>onAllTasksComplete</c>; the service's default is noaction. A job without tasks counts as all complete, so
    /// <see cref="BatchAllTasksCompleteMode.TerminateJob"/> on creation ends the job before its tasks are added.
    /// </summary>
    public BatchAllTasksCompleteMode? AllTasksCompleteMode { get; init; }

    /// <summary><c>onTaskFailure</c>; the service's default is noaction.</summary>
    public BatchTaskFailureMode? TaskFailureMode { get; init; }

    /// <summary>The job's execution constraints.</summary>
    public BatchJobConstraints? Constraints { get; init; }

    /// <summary>Whether tasks may depend on each other; the service's default is false.</summary>
    public bool? UsesTaskDependencies { get; init; }
}

/// <summary>The pool a job runs on (<c>poolInfo</c>); this client names an existing pool, never an auto pool.</summary>
public sealed record BatchPoolInfo
{
    /// <summary>The id of an existing pool.</summary>
    public string? PoolId { get; init; }
}

/// <summary>A job's execution constraints (<c>constraints</c>).</summary>
public sealed record BatchJobConstraints
{
    /// <summary>The job is terminated once it has been active this long (ISO 8601 duration on the wire).</summary>
    public TimeSpan? MaxWallClockTime { get; init; }

    /// <summary>The retries of each task after a non-zero exit code: 0 none, -1 unlimited.</summary>
    public int? MaxTaskRetryCount { get; init; }
}

/// <summary>A job as Get Job returns it; only the members this client reads. Named as the official client's <c>BatchJob</c>.</summary>
public sealed record BatchJob(string Id)
{
    public string? DisplayName { get; init; }

    public BatchJobState? State { get; init; }

    public DateTimeOffset? StateTransitionTime { get; init; }

    public DateTimeOffset? CreationTime { get; init; }

    public string? ETag { get; init; }

    public BatchPoolInfo? PoolInfo { get; init; }

    public BatchAllTasksCompleteMode? AllTasksCompleteMode { get; init; }

    public BatchTaskFailureMode? TaskFailureMode { get; init; }

    public BatchJobExecutionInfo? ExecutionInfo { get; init; }
}

/// <summary>A job's <c>executionInfo</c>.</summary>
public sealed record BatchJobExecutionInfo
{
    /// <summary>When the job was created.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>When the job completed; set only in the completed state.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>The pool the job is assigned to.</summary>
    public string? PoolId { get; init; }

    /// <summary>
    /// Why the job ended (<c>terminateReason</c>): AllTasksComplete, TaskFailed, MaxWallClockTimeExpiry, ... or the
    /// text given to Terminate Job (UserTerminate by default).
    /// </summary>
    public string? TerminationReason { get; init; }
}
