# The 30 first-layer filters before training and after loading the trained parameters.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
import matplotlib.pyplot as plt
from simple_convnet import SimpleConvNet


def filter_show(filters, nx=8, margin=3, scale=10):
    FN, C, FH, FW = filters.shape
    ny = int(np.ceil(FN / nx))
    fig = plt.figure()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, hspace=0.05, wspace=0.05)
    for i in range(FN):
        ax = fig.add_subplot(ny, nx, i + 1, xticks=[], yticks=[])
        ax.imshow(filters[i, 0], cmap=plt.cm.gray_r, interpolation='nearest')
    return fig


network = SimpleConvNet(seed=15)
before = network.params['W1'].copy()
filter_show(network.params['W1']).savefig("filters_random.png")
network.load_params("params.pkl")
filter_show(network.params['W1']).savefig("filters_trained.png")
plt.show()
print("W1 shape:" + str(network.params['W1'].shape))
print("std before:" + str(before.std()) + " after:" + str(network.params['W1'].std()))
print("saved figures:" + str(os.path.exists("filters_random.png") and
                             os.path.exists("filters_trained.png")))
