using Azure.Core;

namespace Btmc.Platform.EventHubs;

/// <summary>
/// Options for <see cref="EventHubProducer"/>. <see cref="ClientOptions.Retry"/> bounds the retries of 408/429/500/502/503/504
/// responses and of timeouts and I/O failures (Azure.Core's default classification); <c>Retry.NetworkTimeout</c> is the
/// per-try timeout.
/// </summary>
public sealed class EventHubProducerOptions : ClientOptions
{
    /// <summary>1 MB: the largest publication (one event or a batch) on the Standard, Premium and Dedicated tiers; Basic allows 256 KB.</summary>
    public const int StandardMaximumBatchSizeInBytes = 1024 * 1024;

    public EventHubProducerOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(800);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
    }

    /// <summary>
    /// The largest request body (the whole JSON batch, in bytes) the producer sends; a larger batch is refused before
    /// anything is sent.
    /// </summary>
    public int MaximumBatchSizeInBytes { get; set; } = StandardMaximumBatchSizeInBytes;

    /// <summary>How long a shared access signature made from a connection string is valid.</summary>
    public TimeSpan SharedAccessSignatureLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Sends to this address instead of <c>https://{namespace}/</c> (for a gateway or a test server), as the official
    /// client's <c>CustomEndpointAddress</c> does; tokens are still signed for the namespace's own address.
    /// </summary>
    public Uri? CustomEndpointAddress { get; set; }

    /// <summary>The clock used for token expiry.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
