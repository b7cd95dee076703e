// Compute sharing (issue 6), kept apart so it is easy to adjust:
// - mining-events: contributors' shares and heartbeats (capture-like HTTP in, the `accountant` trigger out);
// - an Azure Batch account (Entra ID only) with a GPU pool that autoscales from zero and installs `btmc worker`;
// - blob containers: compute-outputs (what tasks produce) and worker (the worker package the start task installs);
// - the pool's own identity, which writes outputs; and the function app's roles for what its compute code does.
// App settings for this code (api.bicep): MiningEvents__*, Batch__AccountUrl, Batch__PoolId, Batch__clientId,
// Batch__NodeIdentityResourceId, Blobs__ServiceUri.
param location string = resourceGroup().location
param tags object = {}
param batchAccountName string
param workerIdentityName string
param eventHubsNamespaceName string
param storageAccountName string

@description('The function app\'s identity (principal id).')
param appPrincipalId string

@description('The principal running azd (uploads the worker package in the post-provision hook); empty for none.')
param principalId string = ''
param principalType string = 'User'

@description('NC-series VM size: one GPU task per node.')
param gpuVmSize string

@description('Most nodes; the pool has none while no task waits.')
param gpuPoolMaxNodes int

@description('Marketplace image with NVIDIA drivers installed; confirm it with the Batch "supported images" list in the region.')
param gpuImage object = {
  publisher: 'microsoft-dsvm'
  offer: 'ubuntu-hpc'
  sku: '2204'
  version: 'latest'
}
param gpuNodeAgentSkuId string = 'batch.node.ubuntu 22.04'

var poolId = 'gpu'
var workerContainerName = 'worker'
var workerPackageBlob = 'btmc-linux-x64.tar.gz'

// Built-in roles, each justified where it is assigned.
var roles = {
  batchJobSubmitter: '48e5e92e-a480-4e71-aa9c-2778f4c13781' // jobs and job schedules (tasks are under jobs); read pools
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
}

// Autoscale from zero: nodes only while tasks wait or run ($PendingTasks = active + running), at most MAX_NODES;
// a node is released once its task completes. Evaluated every 5 minutes.
var autoScaleFormula = replace('''
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
$tasks = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
$TargetDedicatedNodes = max(0, min($tasks, MAX_NODES));
$TargetLowPriorityNodes = 0;
$NodeDeallocationOption = taskcompletion;
''', 'MAX_NODES', string(gpuPoolMaxNodes))

// ---------------------------------------------------------------- mining-events
resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource miningEvents 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: 'mining-events'
  properties: {
    partitionCount: 4
    messageRetentionInDays: 7
  }
}

resource accountant 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: miningEvents
  name: 'accountant'
}

// ---------------------------------------------------------------- blob containers
resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource computeOutputs 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'compute-outputs'
  properties: {
    publicAccess: 'None'
  }
}

resource workerPackages 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: workerContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ---------------------------------------------------------------- Batch
// The pool nodes' identity: separate from the function app's, so a task can write its outputs and nothing else.
resource workerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: workerIdentityName
  location: location
  tags: tags
}

resource batchAccount 'Microsoft.Batch/batchAccounts@2024-07-01' = {
  name: batchAccountName
  location: location
  tags: tags
  properties: {
    poolAllocationMode: 'BatchService'
    allowedAuthenticationModes: [
      'AAD' // Entra ID only: no shared keys
    ]
    publicNetworkAccess: 'Enabled'
  }
}

resource gpuPool 'Microsoft.Batch/batchAccounts/pools@2024-07-01' = {
  parent: batchAccount
  name: poolId
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${workerIdentity.id}': {}
    }
  }
  properties: {
    displayName: 'GPU workers (btmc worker)'
    vmSize: gpuVmSize
    taskSlotsPerNode: 1
    interNodeCommunication: 'Disabled'
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: gpuImage
        nodeAgentSkuId: gpuNodeAgentSkuId
      }
    }
    scaleSettings: {
      autoScale: {
        formula: autoScaleFormula
        evaluationInterval: 'PT5M'
      }
    }
    // Installs Blender (rendering tasks run `blender -b`) and the self-contained `btmc` package the post-provision hook
    // uploads to worker/btmc-linux-x64.tar.gz, read with the pool identity; tasks then run `btmc worker`.
    startTask: {
      commandLine: '/bin/bash -c "set -euo pipefail; export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q blender; mkdir -p /opt/btmc && tar -xzf ${workerPackageBlob} -C /opt/btmc && ln -sf /opt/btmc/btmc /usr/local/bin/btmc && test -x /usr/local/bin/btmc"'
      resourceFiles: [
        {
          httpUrl: '${storageAccount.properties.primaryEndpoints.blob}${workerContainerName}/${workerPackageBlob}'
          filePath: workerPackageBlob
          identityReference: {
            resourceId: workerIdentity.id
          }
        }
      ]
      userIdentity: {
        autoUser: {
          scope: 'Pool'
          elevationLevel: 'Admin' // apt-get and /opt, /usr/local/bin
        }
      }
      maxTaskRetryCount: 3
      waitForSuccess: true
    }
  }
}

// ---------------------------------------------------------------- roles
// Function app: submits jobs and task collections to the GPU pool and reads their state (Batch data plane).
// Job Submitter, not Data Contributor: the app never creates, resizes or deletes pools.
resource appSubmitsJobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(batchAccount.id, appPrincipalId, roles.batchJobSubmitter)
  scope: batchAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.batchJobSubmitter)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: submit compute jobs and tasks to the GPU pool, read their progress'
  }
}

// Function app: publishes contributors' shares and heartbeats to mining-events (this hub only).
resource appSendsMining 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(miningEvents.id, appPrincipalId, roles.eventHubsDataSender)
  scope: miningEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: publish mining events'
  }
}

// Function app: the accountant trigger (connection MiningEvents) reads mining-events (this hub only).
resource appReceivesMining 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(miningEvents.id, appPrincipalId, roles.eventHubsDataReceiver)
  scope: miningEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: the accountant trigger reads mining events'
  }
}

// The function app reads compute-outputs through its Storage Blob Data Owner on the account (rbac.bicep, needed by
// the Functions host anyway); no extra role here.

// Pool nodes: tasks upload their outputs to compute-outputs (output files with the pool identity), this container only.
resource workerWritesOutputs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(computeOutputs.id, workerIdentity.id, roles.storageBlobDataContributor)
  scope: computeOutputs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'GPU pool nodes: write task outputs'
  }
}

// Pool nodes: the start task downloads the worker package (read only, this container only).
resource workerReadsPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workerPackages.id, workerIdentity.id, roles.storageBlobDataReader)
  scope: workerPackages
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'GPU pool nodes: download the btmc worker package'
  }
}

// The deploying principal: the post-provision hook uploads the worker package (this container only).
resource deployerUploadsPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(workerPackages.id, principalId, roles.storageBlobDataContributor)
  scope: workerPackages
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
    description: 'Deployer: the post-provision hook uploads the btmc worker package'
  }
}

output batchAccountName string = batchAccount.name
output batchAccountUrl string = 'https://${batchAccount.properties.accountEndpoint}'
output poolId string = gpuPool.name
output workerIdentityId string = workerIdentity.id
output workerPackageContainer string = workerPackages.name
output workerPackageBlob string = workerPackageBlob
