# SGD, Momentum, AdaGrad and Adam on a 5-layer MultiLayerNet; numpy only via the star import.
import sys, os
sys.path.append(os.pardir)
from dataset.mnist import load_mnist
from common.util import smooth_curve
from common.multi_layer_net import MultiLayerNet
from common.optimizer import *

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
optimizers = {'SGD': SGD(), 'Momentum': Momentum(), 'AdaGrad': AdaGrad(), 'Adam': Adam()}
networks = {key: MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100],
                               output_size=10) for key in optimizers}
train_loss = {key: [] for key in optimizers}
rng = np.random.default_rng(3)
for i in range(150):
    batch_mask = rng.choice(x_train.shape[0], 128)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    for key in optimizers:
        grads = networks[key].gradient(x_batch, t_batch)
        optimizers[key].update(networks[key].params, grads)
        train_loss[key].append(networks[key].loss(x_batch, t_batch))
for key in optimizers:
    curve = smooth_curve(train_loss[key])
    print(key + " " + str(train_loss[key][0]) + " " + str(curve[-1]) + " " + str(len(curve)))
