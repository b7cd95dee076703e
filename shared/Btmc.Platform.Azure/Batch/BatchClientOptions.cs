using Azure.Core;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// Pipeline settings of <see cref="BatchClient"/>, shaped after the official <c>Azure.Compute.Batch.BatchClientOptions</c>.
/// Retries are bounded and exponential: by default 4 retries from 1 s up to 30 s apart, for 408, 429, 500, 502, 503,
/// 504 and network failures (Azure.Core's default classification; Batch throttles with 429 or 503 and
/// <c>Retry-After</c>). Azure.Core's retry policy waits at least as long as a <c>Retry-After</c> header asks, even
/// beyond <see cref="RetryOptions.MaxDelay"/>; the caller's cancellation token bounds that. Each attempt is cut off after
/// 100 s (<see cref="RetryOptions.NetworkTimeout"/>; the service itself gives up on a request after 30 s).
/// </summary>
public sealed class BatchClientOptions : ClientOptions
{
    /// <summary>The service version used when none is given.</summary>
    internal const ServiceVersion DefaultVersion = ServiceVersion.V2024_07_01_20_0;

    /// <summary>Creates options for <paramref name="version"/> (2024-07-01.20.0 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is not a known version.</exception>
    public BatchClientOptions(ServiceVersion version = DefaultVersion)
    {
        if (!Enum.IsDefined(version))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "Unknown Batch service version.");
        }

        Version = version;
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromSeconds(1);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
    }

    /// <summary>
    /// The Batch data-plane REST API versions this client speaks; the jobs, tasks and task-file shapes it uses are the
    /// same in both.
    /// </summary>
    public enum ServiceVersion
    {
        /// <summary>api-version 2024-07-01.20.0.</summary>
        V2024_07_01_20_0 = 1,

        /// <summary>api-version 2025-06-01 (the official .NET client's version; the service-version suffix is gone).</summary>
        V2025_06_01 = 2,
    }

    /// <summary>The service version sent as <c>api-version</c> on every request.</summary>
    public ServiceVersion Version { get; }

    internal string GetVersionString() => Version switch
    {
        ServiceVersion.V2024_07_01_20_0 => "2024-07-01.20.0",
        ServiceVersion.V2025_06_01 => "2025-06-01",
        _ => throw new ArgumentOutOfRangeException(nameof(Version), Version, "Unknown Batch service version."),
    };
}
