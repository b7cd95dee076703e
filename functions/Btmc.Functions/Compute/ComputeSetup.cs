using Btmc.Compute;
using Btmc.Compute.Jobs;
using Btmc.Platform.Azure.Batch;
using Btmc.Platform.Compute;
using Btmc.Platform.Tables;

namespace Btmc.Functions.Compute;

/// <summary>Settings of the server's compute-job driver (section <c>Compute:Jobs</c>).</summary>
public sealed class ComputeJobsOptions
{
    /// <summary>With the local pool, how often the embedded driver advances unfinished jobs (default 1000 ms). In
    /// Azure the <c>AdvanceComputeJobs</c> timer function does it every 30 s.</summary>
    public int AdvanceMilliseconds { get; set; } = 1000;

    /// <summary>With the local pool, the one folder job input files are read from (default <c>&lt;data&gt;/compute-inputs</c>);
    /// in Azure, inputs are blobs of the deployment's storage account (<c>Blobs:ServiceUri</c>).</summary>
    public string? InputsFolder { get; set; }

    public void Validate()
    {
        if (AdvanceMilliseconds is < 10 or > 600_000)
        {
            throw new ArgumentException("Compute:Jobs:AdvanceMilliseconds must be between 10 and 600000.", nameof(AdvanceMilliseconds));
        }
    }
}

/// <summary>
/// Composes compute jobs (docs/compute-jobs.md): the <c>Compute</c> settings (<see cref="ComputeOptions"/>), the pool
/// tasks run on, and the <see cref="ComputeJobService"/> over the compute tables.
/// <list type="bullet">
/// <item>The local process pool by default, in <c>&lt;data&gt;/compute/</c> (<c>Compute:LocalPool:Root</c>), running
/// <c>Compute:LocalPool:MaxParallelTasks</c> tasks at once (one per processor), each as
/// <c>Compute:LocalPool:WorkerCommand:0..n</c> followed by the task's worker arguments (default: this .NET host running
/// the <c>btmc.dll</c> built beside the server, <c>worker</c>); a contributor's own command in
/// <c>Compute:LocalPool:ContributorCommands:&lt;contributor&gt;:0..n</c>.</item>
/// <item>The Azure Batch pool when <c>Batch:AccountUrl</c> is set: pool <c>Batch:PoolId</c> (default <c>gpu</c>), Entra ID
/// with <c>Batch:credential</c> / <c>Batch:clientId</c>, outputs to <c>{Blobs:ServiceUri}/compute-outputs</c> uploaded as
/// the pool identity <c>Batch:NodeIdentityResourceId</c>.</item>
/// </list>
/// </summary>
public static class ComputeSetup
{
    /// <summary>The blob container task outputs are uploaded to (created by infra/app/compute.bicep).</summary>
    public const string OutputContainer = "compute-outputs";

    public static async Task<(ComputeJobService Jobs, LocalProcessPool? LocalPool, ComputeJobsOptions Options)> StartAsync(
        IConfiguration configuration, ITableServiceClient tableService, string dataDirectory, CancellationToken cancellationToken)
    {
        var compute = new ComputeOptions();
        configuration.GetSection("Compute").Bind(compute);
        compute.Validate();
        var driver = new ComputeJobsOptions();
        configuration.GetSection("Compute:Jobs").Bind(driver);
        driver.Validate();

        IComputePool pool;
        JobInputs inputs;
        LocalProcessPool? localPool = null;
        if (configuration["Batch:AccountUrl"] is { Length: > 0 } batchAccount)
        {
            // The Azure Batch pool: tasks run `btmc worker` on the GPU pool's nodes (installed as /usr/local/bin/btmc by the
            // pool's start task, infra/app/compute.bicep), outputs go to the compute-outputs container with the pool's
            // identity; the AdvanceComputeJobs timer function advances jobs.
            var batch = configuration.GetSection("Batch");
            var blobService = configuration["Blobs:ServiceUri"] is { Length: > 0 } blobs
                ? new Uri(blobs.TrimEnd('/') + "/")
                : throw new InvalidOperationException("Batch:AccountUrl is set, so Blobs:ServiceUri (where task outputs go) must be too.");
            var settings = new BatchPoolSettings(
                new Uri(blobService, OutputContainer),
                batch["NodeIdentityResourceId"] is { Length: > 0 } nodeIdentity ? nodeIdentity : throw new InvalidOperationException("Batch:NodeIdentityResourceId (the pool identity that uploads task outputs) must be set."))
            {
                WorkerExecutable = "/usr/local/bin/btmc",
            };
            settings.Validate();
            inputs = JobInputs.InBlobs(blobService);
            pool = new BatchComputePool(new BatchClient(new Uri(batchAccount), BtmcServer.CredentialFrom(batch)), batch["PoolId"] is { Length: > 0 } poolId ? poolId : "gpu", settings);
        }
        else
        {
            localPool = new LocalProcessPool(LocalPoolOptions(configuration.GetSection("Compute:LocalPool"), dataDirectory));
            pool = localPool;
            inputs = JobInputs.InFolder(driver.InputsFolder is { Length: > 0 } folder ? folder : Path.Combine(dataDirectory, "compute-inputs"));
        }

        var jobs = new ComputeJobService(new ComputeTables(tableService, configuration["Supply:TablePrefix"] ?? string.Empty), pool, compute, inputs);
        await jobs.StartAsync(cancellationToken);
        return (jobs, localPool, driver);
    }

    /// <summary>The local pool's settings with their defaults.</summary>
    public static LocalProcessPoolOptions LocalPoolOptions(IConfiguration section, string dataDirectory)
    {
        var options = new LocalProcessPoolOptions();
        section.Bind(options);
        options.Root = Path.GetFullPath(string.IsNullOrEmpty(options.Root) ? Path.Combine(dataDirectory, "compute") : options.Root, dataDirectory);
        if (options.WorkerCommand.Length == 0)
        {
            options.WorkerCommand = [DotnetHost(), Path.Combine(AppContext.BaseDirectory, "btmc.dll"), "worker"];
        }

        return options;
    }

    /// <summary>The dotnet host running this server, else <c>dotnet</c> on PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";
}
