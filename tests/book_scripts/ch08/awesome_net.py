# Do what you want! Here: DeepConvNet with wider last convolutions, counted.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from deep_convnet import DeepConvNet

network = DeepConvNet(conv_param_5={'filter_num': 96, 'filter_size': 3, 'pad': 1, 'stride': 1},
                      conv_param_6={'filter_num': 96, 'filter_size': 3, 'pad': 1, 'stride': 1},
                      hidden_size=64, seed=20)
print("parameters:" + str(sum(p.size for p in network.params.values())))
print("scores:" + str(network.predict(np.zeros((2, 1, 28, 28))).shape))
