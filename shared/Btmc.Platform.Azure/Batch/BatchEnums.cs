namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// The state of a task (<c>state</c>): active, preparing, running or completed.
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchTaskState(string Value)
{
    /// <summary>Queued and able to run, not yet assigned to a node; also while awaiting a retry.</summary>
    public static BatchTaskState Active { get; } = new("active");

    /// <summary>Assigned to a node, waiting for the job preparation task there.</summary>
    public static BatchTaskState Preparing { get; } = new("preparing");

    /// <summary>Running on a node, including downloading resource files before the command line starts.</summary>
    public static BatchTaskState Running { get; } = new("running");

    /// <summary>No longer eligible to run: finished (successfully or with retries exhausted), failed to launch, or terminated.</summary>
    public static BatchTaskState Completed { get; } = new("completed");

    public static implicit operator BatchTaskState(string value) => new(value);

    public bool Equals(BatchTaskState other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// The result of a task's execution (<c>executionInfo.result</c>).
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchTaskExecutionResult(string Value)
{
    /// <summary>The task ran successfully.</summary>
    public static BatchTaskExecutionResult Success { get; } = new("success");

    /// <summary>The task failed before, while or after its process ran; details in <c>failureInfo</c>.</summary>
    public static BatchTaskExecutionResult Failure { get; } = new("failure");

    public static implicit operator BatchTaskExecutionResult(string value) => new(value);

    public bool Equals(BatchTaskExecutionResult other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// The status of one task of an Add Task Collection request.
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchTaskAddStatus(string Value)
{
    /// <summary>The task was added.</summary>
    public static BatchTaskAddStatus Success { get; } = new("success");

    /// <summary>Refused because of the request (e.g. TaskExists); not to be retried unchanged.</summary>
    public static BatchTaskAddStatus ClientError { get; } = new("clienterror");

    /// <summary>Refused because of the service; may be retried unchanged.</summary>
    public static BatchTaskAddStatus ServerError { get; } = new("servererror");

    public static implicit operator BatchTaskAddStatus(string value) => new(value);

    public bool Equals(BatchTaskAddStatus other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// Who caused a task's failure (<c>failureInfo.category</c>).
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchErrorSourceCategory(string Value)
{
    /// <summary>A user issue, such as a misconfiguration or a non-zero exit code.</summary>
    public static BatchErrorSourceCategory UserError { get; } = new("usererror");

    /// <summary>An internal service issue.</summary>
    public static BatchErrorSourceCategory ServerError { get; } = new("servererror");

    public static implicit operator BatchErrorSourceCategory(string value) => new(value);

    public bool Equals(BatchErrorSourceCategory other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// The state of a job.
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchJobState(string Value)
{
    /// <summary>Tasks can be scheduled.</summary>
    public static BatchJobState Active { get; } = new("active");

    /// <summary>Being disabled.</summary>
    public static BatchJobState Disabling { get; } = new("disabling");

    /// <summary>Disabled: nothing runs and nothing is scheduled.</summary>
    public static BatchJobState Disabled { get; } = new("disabled");

    /// <summary>Being enabled.</summary>
    public static BatchJobState Enabling { get; } = new("enabling");

    /// <summary>Being terminated.</summary>
    public static BatchJobState Terminating { get; } = new("terminating");

    /// <summary>All tasks have terminated; the job accepts no more tasks or changes.</summary>
    public static BatchJobState Completed { get; } = new("completed");

    /// <summary>Being deleted.</summary>
    public static BatchJobState Deleting { get; } = new("deleting");

    public static implicit operator BatchJobState(string value) => new(value);

    public bool Equals(BatchJobState other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// What the service does once every task of a job is completed (<c>onAllTasksComplete</c>).
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchAllTasksCompleteMode(string Value)
{
    /// <summary>Nothing: the job stays active until terminated.</summary>
    public static BatchAllTasksCompleteMode NoAction { get; } = new("noaction");

    /// <summary>Terminate the job (reason AllTasksComplete). A job without tasks counts as all complete.</summary>
    public static BatchAllTasksCompleteMode TerminateJob { get; } = new("terminatejob");

    public static implicit operator BatchAllTasksCompleteMode(string value) => new(value);

    public bool Equals(BatchAllTasksCompleteMode other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// What the service does when a task of a job fails (<c>onTaskFailure</c>).
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct BatchTaskFailureMode(string Value)
{
    /// <summary>Nothing.</summary>
    public static BatchTaskFailureMode NoAction { get; } = new("noaction");

    /// <summary>Take the job action of the task's exit conditions.</summary>
    public static BatchTaskFailureMode PerformExitOptionsJobAction { get; } = new("performexitoptionsjobaction");

    public static implicit operator BatchTaskFailureMode(string value) => new(value);

    public bool Equals(BatchTaskFailureMode other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// When a task's output files are uploaded (<c>uploadOptions.uploadCondition</c>).
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct OutputFileUploadCondition(string Value)
{
    /// <summary>Only after the task process exits with code 0.</summary>
    public static OutputFileUploadCondition TaskSuccess { get; } = new("tasksuccess");

    /// <summary>Only after the task process exits with a non-zero code.</summary>
    public static OutputFileUploadCondition TaskFailure { get; } = new("taskfailure");

    /// <summary>After the task process exits, whatever its exit code (the service's default).</summary>
    public static OutputFileUploadCondition TaskCompletion { get; } = new("taskcompletion");

    public static implicit operator OutputFileUploadCondition(string value) => new(value);

    public bool Equals(OutputFileUploadCondition other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// The scope of the auto user a task runs as.
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct AutoUserScope(string Value)
{
    /// <summary>A new user for the task.</summary>
    public static AutoUserScope Task { get; } = new("task");

    /// <summary>The pool-wide auto user, which can read what the pool's start task installed.</summary>
    public static AutoUserScope Pool { get; } = new("pool");

    public static implicit operator AutoUserScope(string value) => new(value);

    public bool Equals(AutoUserScope other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}

/// <summary>
/// The elevation of the user a task runs as.
/// Any value the service sends is kept; values compare case-insensitively, as the official client's extensible
/// enums do.
/// </summary>
public readonly record struct ElevationLevel(string Value)
{
    /// <summary>A standard user.</summary>
    public static ElevationLevel NonAdmin { get; } = new("nonadmin");

    /// <summary>An administrator (root).</summary>
    public static ElevationLevel Admin { get; } = new("admin");

    public static implicit operator ElevationLevel(string value) => new(value);

    public bool Equals(ElevationLevel other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    public override string ToString() => Value ?? "";
}
