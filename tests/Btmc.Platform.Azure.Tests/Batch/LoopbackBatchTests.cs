using Btmc.Platform.Azure.Batch;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Azure.Tests.Batch;

/// <summary>Starts a <see cref="LoopbackBatch"/> account per test and builds clients for it.</summary>
public abstract class LoopbackBatchTests : IAsyncLifetime
{
    protected const string PoolId = "gpu-pool";

    protected const string IdentityId =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/batch-nodes";

    protected static readonly Uri OutputContainer = new("https://btmcstore.blob.core.windows.net/compute-outputs");

    private LoopbackBatch? _started;

    protected LoopbackBatch Batch => _started ?? throw new InvalidOperationException("The loopback Batch account has not started.");

    public async Task InitializeAsync() => _started = await LoopbackBatch.StartAsync();

    public async Task DisposeAsync()
    {
        if (_started is not null)
        {
            await _started.DisposeAsync();
        }
    }

    /// <summary>Options with quick retries, so that tests of the back-off measure the server's Retry-After.</summary>
    protected static BatchClientOptions Options(int maxRetries = 3, BatchClientOptions.ServiceVersion? version = null)
    {
        var options = version is { } v ? new BatchClientOptions(v) : new BatchClientOptions();
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        return options;
    }

    protected BatchClient NewClient(BatchClientOptions? options = null) => new(Batch.Endpoint, Batch.Credential, options ?? Options());

    protected BatchComputePool NewPool(BatchPoolSettings? settings = null, BatchClientOptions? options = null) =>
        new(NewClient(options), PoolId, settings ?? new BatchPoolSettings(OutputContainer, IdentityId));
}
