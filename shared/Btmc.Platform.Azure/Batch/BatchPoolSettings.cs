namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// How <see cref="BatchComputePool"/> turns a compute task into a Batch task: the worker's command line, where outputs
/// are uploaded, which pool identity uploads them and reads inputs, and the task constraints.
/// </summary>
/// <param name="OutputContainerUri">
/// The blob container task outputs are uploaded to, without a SAS, e.g.
/// <c>https://{account}.blob.core.windows.net/compute-outputs</c>. Each task's files land under
/// <c>{jobId}/{taskId}/</c>: <c>stdout.txt</c>, <c>stderr.txt</c> and <c>out/...</c>.
/// </param>
/// <param name="UploadIdentityResourceId">
/// The ARM resource id of the pool's user-assigned managed identity
/// (<c>/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}</c>),
/// sent as <c>identityReference</c> of the output uploads and of inputs read from the same storage account. It needs
/// Storage Blob Data Contributor on the output container and Reader on input blobs.
/// </param>
public sealed record BatchPoolSettings(Uri OutputContainerUri, string UploadIdentityResourceId)
{
    /// <summary>
    /// The shell word that runs <c>btmc</c> on a node; the pool's start task installs it under the node's shared
    /// directory. It is inserted unquoted into the <c>sh -c</c> script, so variables in it expand on the node.
    /// </summary>
    public string WorkerExecutable { get; init; } = "$AZ_BATCH_NODE_SHARED_DIR/btmc/btmc";

    /// <summary>Retries of a task whose worker exits non-zero (the task's <c>maxTaskRetryCount</c>).</summary>
    public int MaxTaskRetryCount { get; init; } = 2;

    /// <summary>A task running longer than this is terminated; null for no limit.</summary>
    public TimeSpan? MaxWallClockTime { get; init; } = TimeSpan.FromHours(4);

    /// <summary>How long a task's directory (and so its files on the node) is kept after it completed; null for the service's 7 days.</summary>
    public TimeSpan? RetentionTime { get; init; }

    /// <summary>
    /// The user tasks run as: by default the pool-wide auto user without elevation, which can read what the start task
    /// installed under the shared directory.
    /// </summary>
    public UserIdentity UserIdentity { get; init; } = new()
    {
        AutoUser = new AutoUserSpecification { Scope = AutoUserScope.Pool, ElevationLevel = ElevationLevel.NonAdmin },
    };

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">The container is not an https blob container URL without query, or a value is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(OutputContainerUri);
        if (!OutputContainerUri.IsAbsoluteUri || OutputContainerUri.Scheme != Uri.UriSchemeHttps
            || OutputContainerUri.AbsolutePath.Trim('/').Length == 0 || OutputContainerUri.AbsolutePath.Trim('/').Contains('/')
            || OutputContainerUri.Query.Length > 0 || OutputContainerUri.Fragment.Length > 0)
        {
            throw new ArgumentException(
                $"'{OutputContainerUri}' is not an https blob container URL without query, such as https://account.blob.core.windows.net/compute-outputs.",
                nameof(OutputContainerUri));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(UploadIdentityResourceId);
        if (!UploadIdentityResourceId.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase)
            || !UploadIdentityResourceId.Contains("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"'{UploadIdentityResourceId}' is not the ARM resource id of a user-assigned managed identity.", nameof(UploadIdentityResourceId));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(WorkerExecutable);
        if (WorkerExecutable.Contains('"') || WorkerExecutable.Contains('\\'))
        {
            throw new ArgumentException("The worker executable may not contain '\"' or '\\'.", nameof(WorkerExecutable));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTaskRetryCount, -1, nameof(MaxTaskRetryCount));
        ArgumentNullException.ThrowIfNull(UserIdentity);
    }
}
